// Loaded on pages with widgets, after require.js and before the ipywidgets HTML manager.
// 1. The HTML manager computes where its fonts live from its requirejs module path, which by
//    default is relative to the page (chapters/@jupyter-widgets/...). Point it at _static/.
// 2. ipywidgets' controls call the MathJax 2 API (MathJax.Hub.Queue) whenever window.MathJax
//    exists; the site uses MathJax 3, which has no Hub. Give every MathJax object a small Hub
//    that forwards to MathJax 3's typesetPromise.
(function () {
  var base = document.currentScript.src.replace(/[^/]*$/, "");
  if (window.require && window.require.config) {
    window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" } });
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var el = job && job[2];
          if (mj.typesetPromise) { mj.typesetPromise(el ? [el] : undefined).catch(function () {}); }
        },
      };
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (v) { current = withHub(v); },
  });
})();
