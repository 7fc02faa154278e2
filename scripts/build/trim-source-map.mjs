// Keeps a bundle's source map for our own code only. A function's map is larger than its code, and
// nearly all of it describes the AWS SDK and other dependencies, whose frames nobody debugs from a
// Lambda stack trace; our own frames keep their file, line and column.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** Base64 VLQ fields of one mapping segment. */
function decodeSegment(text) {
  const fields = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new Error(`source map: bad VLQ character ${char}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return fields;
}

function encodeSegment(fields) {
  let text = '';
  for (const field of fields) {
    let value = field < 0 ? (-field << 1) | 1 : field << 1;
    do {
      let digit = value & 31;
      value >>>= 5;
      if (value > 0) digit |= 32;
      text += BASE64[digit];
    } while (value > 0);
  }
  return text;
}

/**
 * The map without the sources `keep` refuses, and without their mappings and names. Segments are
 * decoded to absolute positions, filtered, and encoded relative again, as version 3 requires.
 */
export function trimSourceMap(map, keep) {
  const kept = map.sources.map((source) => keep(source));
  const sourceIndex = [];
  const sources = [];
  map.sources.forEach((source, i) => {
    sourceIndex[i] = kept[i] ? sources.push(source) - 1 : -1;
  });
  const nameIndex = new Map();
  const names = [];
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  let outSource = 0;
  let outLine = 0;
  let outColumn = 0;
  let outName = 0;
  const lines = map.mappings.split(';').map((segments) => {
    let genColumn = 0;
    let outGenColumn = 0;
    const out = [];
    for (const text of segments ? segments.split(',') : []) {
      const fields = decodeSegment(text);
      genColumn += fields[0];
      if (fields.length === 1) continue;
      source += fields[1];
      line += fields[2];
      column += fields[3];
      if (fields.length === 5) name += fields[4];
      const target = sourceIndex[source];
      if (target === -1) continue;
      const encoded = [genColumn - outGenColumn, target - outSource, line - outLine, column - outColumn];
      outGenColumn = genColumn;
      outSource = target;
      outLine = line;
      outColumn = column;
      if (fields.length === 5) {
        const original = map.names[name];
        let index = nameIndex.get(original);
        if (index === undefined) {
          index = names.push(original) - 1;
          nameIndex.set(original, index);
        }
        encoded.push(index - outName);
        outName = index;
      }
      out.push(encodeSegment(encoded));
    }
    return out.join(',');
  });
  return { ...map, sources, names, mappings: lines.join(';') };
}
