/* Archive search: Pagefind's own UI over the site's search bundles (digest/search.py).
   pagefind/bundles.json names them, the primary one first: its UI and WebAssembly are
   loaded, and the others (one per month of day pages) are merged in with Pagefind's
   documented `mergeIndex` option, so a publish rebuilds only the bundles that changed.
   An external script, never inline, so a strict Content-Security-Policy still holds.
   Paths are taken from this script's own URL, so the site works under any folder of any
   host and from `digest serve`. Without an index (the pagefind binary was missing when
   the site was published) the search box stays hidden. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  var me = document.currentScript;
  if (!box || !me || !window.fetch) return;
  var root = new URL(".", me.src);
  var folder = new URL("pagefind/", root);
  /* no-cache: revalidated at each page load, as the manifest changes with every publish */
  fetch(new URL("bundles.json", folder).href, { cache: "no-cache" })
    .then(function (reply) {
      return reply.ok ? reply.json() : { bundles: [] };
    })
    .then(function (manifest) {
      var paths = (manifest.bundles || []).map(function (name) {
        return new URL(name, folder).pathname;
      });
      if (!paths.length) return;
      var primary = new URL(paths[0], root);
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = new URL("pagefind-ui.css", primary).href;
      var ui = document.createElement("script");
      ui.src = new URL("pagefind-ui.js", primary).href;
      ui.onload = function () {
        box.hidden = false;
        /* global PagefindUI */
        new PagefindUI({
          element: "#search",
          bundlePath: paths[0],
          baseUrl: root.pathname,
          showImages: false,
          resetStyles: false,
          mergeIndex: paths.slice(1).map(function (path) {
            return { bundlePath: path, baseUrl: root.pathname };
          }),
        });
      };
      document.head.appendChild(css);
      document.head.appendChild(ui);
    })
    .catch(function () {
      /* no index to search: the box stays hidden */
    });
})();
