// assay-web's one script: the live progress of a bulk grading.  The
// element #progress names its Server-Sent Events source in data-src; each
// event is {"done", "total", "rate", "eta_s", "percent"}.
(function () {
  var box = document.getElementById("progress");
  if (!box || !window.EventSource || box.getAttribute("data-finished")) return;
  var text = document.getElementById("progress-text");
  var bar = document.getElementById("progress-bar");
  var src = new EventSource(box.getAttribute("data-src"));
  src.onmessage = function (ev) {
    var p = JSON.parse(ev.data);
    if (!p.total) return;
    var eta = p.eta_s < 0 ? "--" : Math.round(p.eta_s) + " s";
    text.textContent = p.done + "/" + p.total + " (" + p.percent + " %), " +
      p.rate.toFixed(2) + "/s, ETA " + eta;
    bar.value = p.percent;
    if (p.done >= p.total) {
      // finished: the page's tables (queue, scores, failures) are now out of date
      box.setAttribute("data-finished", "1");
      src.close();
      window.setTimeout(function () { window.location.reload(); }, 1500);
    }
  };
})();
