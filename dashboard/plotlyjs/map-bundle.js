// A partial plotly.js for the atlas: the core and the MapLibre choropleth, nothing else.
// The full bundle (4.8 MB) is mostly trace types the atlas never draws, and the browser
// compiles all of it before the first map can paint; dcc.Graph uses this one because it
// defines window.Plotly first (Dash loads it from assets/ before the app starts).
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/choroplethmap')]);

module.exports = Plotly;
