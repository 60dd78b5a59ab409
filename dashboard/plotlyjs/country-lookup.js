// plotly.js builds an index of country names and aliases as soon as it loads
// (about 0.1 s of a cold first paint). The atlas locates areas by GeoJSON id
// and never by country name, so the index is built on the first lookup instead.
var extraCountries = [];

exports.COUNTRIES = [];
exports.createLookup = function (records) {
    extraCountries = records;
    var lookup = null;
    return {
        lookupAlpha3: function (name) {
            if (!lookup) {
                var real = require('./node_modules/country-iso-search/dist/index.cjs');
                lookup = real.createLookup(real.COUNTRIES.concat(extraCountries));
            }
            return lookup.lookupAlpha3(name);
        }
    };
};
