// Loaded on pages with widgets, after require.js and before the ipywidgets HTML manager.
// 1. The HTML manager computes where its fonts live from its requirejs module path, which by
//    default is relative to the page (chapters/@jupyter-widgets/...). Point it at _static/.
// 2. ipywidgets' controls call the MathJax 2 API (MathJax.Hub.Queue) whenever window.MathJax
//    exists; the site uses MathJax 3, which has no Hub. Give every MathJax object a small Hub
//    that forwards to MathJax 3's typesetPromise.
// 3. ipywidgets gives a slider's handle no accessible name (its label is not tied to it) and
//    shows a checkbox's tooltip nowhere. When the HTML manager has drawn a widget, give each
//    control of it the name "label, tooltip" from the embedded widget state: its label plus
//    what it changes (the tooltip, set where the widget is made).
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

(function () {
  var STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var CONTROLS = '[role="slider"], select, input, textarea, button';
  var models = null;
  var named = new Set();

  function modelOf(ref) {
    var m = models[String(ref).replace(/^IPY_MODEL_/, "")];
    return m ? m.state : {};
  }

  function nameView(view) {
    var area = view.previousElementSibling;
    var box = area && area.classList.contains("widget-subarea") && area.firstElementChild;
    var children = modelOf(JSON.parse(view.textContent).model_id).children || [];
    if (!box || box.children.length < children.length) return false;  // not drawn yet
    var done = true;
    children.forEach(function (ref, i) {
      var state = modelOf(ref);
      var label = (state.description || "").trim();
      if (!label) return;
      var name = state.tooltip ? label + ", " + state.tooltip : label;
      var controls = box.children[i].querySelectorAll(CONTROLS);
      if (!controls.length) done = false;  // the control itself is not drawn yet
      controls.forEach(function (c) { c.setAttribute("aria-label", name); });
    });
    return done;
  }

  function nameAll() {
    var views = document.querySelectorAll(VIEW);
    views.forEach(function (view) {
      if (!named.has(view) && nameView(view)) named.add(view);
    });
    return named.size === views.length;
  }

  function start() {
    var tag = document.querySelector(STATE);
    if (!tag) return;
    models = JSON.parse(tag.textContent).state;
    if (nameAll()) return;
    var watch = new MutationObserver(function () {
      if (nameAll()) watch.disconnect();
    });
    watch.observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
