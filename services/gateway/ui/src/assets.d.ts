/** Stylesheets are bundled by esbuild next to the script (app.css). */
declare module '*.css';
