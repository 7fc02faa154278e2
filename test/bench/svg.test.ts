import { lineChart, ticks } from '../../bench/lib/svg';

describe('benchmark charts', () => {
  it('picks round ticks that cover the largest value', () => {
    expect(ticks(3200)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(ticks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(ticks(0)).toEqual([0, 1]);
  });

  it('draws one polyline per series with more than one point, a marker per point and a legend', () => {
    const svg = lineChart({
      title: 'T & <t>',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          points: [
            [20, 100],
            [0, 300],
          ],
        },
        { name: 'b', points: [[0, 50]] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('T &amp; &lt;t&gt;');
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('>a</text>');
    expect(svg).toContain('>b</text>');
    // Points are drawn in x order: the polyline starts at x = 0 (the plot's left edge, 70).
    expect(svg).toMatch(/<polyline points="70\.0,/);
  });
});
