// Hides the picture of the first map (dashboard/preview.py) once plotly has drawn the live map,
// or at once when the URL asks for a view of its own, which the picture does not show.
(function () {
    function drawn() {
        document.documentElement.classList.add('map-drawn');
    }
    if (window.location.search) {
        drawn();
        return;
    }
    new MutationObserver(function (mutations, observer) {
        var graph = document.querySelector('#map .js-plotly-plot');
        if (graph && graph.on) {
            observer.disconnect();
            // plotly_afterplot comes once MapLibre has rendered the traces (plotly waits for it).
            graph.on('plotly_afterplot', drawn);
        }
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
