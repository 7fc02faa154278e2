/** Stylesheets imported for esbuild to bundle (uPlot's): they export nothing to the script. */
declare module '*.css';
