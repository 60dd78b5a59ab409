// A partial plotly.js for the atlas: the core and the MapLibre choropleth, nothing else.
// The full bundle (4.8 MB) is mostly trace types the atlas never draws, and the browser
// compiles all of it before the first map can paint; dcc.Graph uses this one because it
// defines window.Plotly first (Dash loads it from assets/ before the app starts).
var Plotly = require('plotly.js/lib/core');
var maplibregl = require('maplibre-gl/dist/maplibre-gl.mjs');
var maplibreWorker = require('plotly.js/build/maplibre_worker');

Plotly.register([require('plotly.js/lib/choroplethmap')]);

// MapLibre's tile worker compiles its own 0.5 MB of script before it can cut the first
// tile. Starting it now, while Dash fetches the layout and renders, takes that off the
// first paint; plotly's map then finds the worker pool already running.
maplibregl.setWorkerUrl(URL.createObjectURL(new Blob([maplibreWorker], {type: 'text/javascript'})));
maplibregl.prewarm();

module.exports = Plotly;
