/* Archive search: Pagefind's own UI, loaded from the site's pagefind/ folder.
   An external script, never inline, so a strict Content-Security-Policy still holds.
   Paths are taken from this script's own URL, so the site works under any folder of any
   host and from `digest serve`. Without an index (the pagefind binary was missing when
   the site was published) the search box stays hidden. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  var me = document.currentScript;
  if (!box || !me) return;
  var root = new URL(".", me.src);
  var bundle = new URL("pagefind/", root);
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("pagefind-ui.css", bundle).href;
  var ui = document.createElement("script");
  ui.src = new URL("pagefind-ui.js", bundle).href;
  ui.onload = function () {
    box.hidden = false;
    /* global PagefindUI */
    new PagefindUI({
      element: "#search",
      bundlePath: bundle.pathname,
      baseUrl: root.pathname,
      showImages: false,
      resetStyles: false,
    });
  };
  document.head.appendChild(css);
  document.head.appendChild(ui);
})();
