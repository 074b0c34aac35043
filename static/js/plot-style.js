// Plotly styling shared by every chart: the toolbar config, axes and the base layout, all
// following the page's theme (static/js/theme.js); Plotly's own words (the toolbar's tooltips,
// its notices) in the page's language.

import { language, t } from "./i18n.js";

/** Plotly's words in the current language, as a Plotly config locale (English is Plotly's own). */
function localeConfig() {
  const lang = language();
  if (lang === "en") return { locale: "en" };
  const dictionary = {
    "Download plot as a PNG": t("explore.plotly.png"),
    Zoom: t("explore.plotly.zoom"),
    Pan: t("explore.plotly.pan"),
    "Zoom in": t("explore.plotly.zoom_in"),
    "Zoom out": t("explore.plotly.zoom_out"),
    Autoscale: t("explore.plotly.autoscale"),
    "Reset axes": t("explore.plotly.reset_axes"),
    "Share chart...": t("explore.plotly.share"),
    "Double-click to zoom back out": t("explore.plotly.zoom_back"),
    "Double-click on legend to isolate one trace": t("explore.plotly.isolate"),
    "Sorry, there was a problem downloading your image!": t("explore.plotly.png_failed"),
  };
  return { locale: lang, locales: { [lang]: { dictionary } } };
}

export function config(filename) {
  return {
    responsive: true,
    ...localeConfig(),
    displaylogo: false,
    // "sendChartToCloud" (Plotly.js 3's "Share chart...") would upload the chart to Plotly Cloud
    modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud"],
    toImageButtonOptions: { format: "png", filename, scale: 2 },
  };
}

export function axis(theme, extra = {}) {
  return {
    gridcolor: theme.grid, zerolinecolor: theme.grid, linecolor: theme.axis, tickcolor: theme.axis,
    showline: true, ticks: "outside", ticklen: 4,
    tickfont: { color: theme.muted, size: 11 },
    ...extra,
    title: { font: { color: theme.muted, size: 12 }, standoff: 8, ...(extra.title || {}) },
  };
}

export function baseLayout(theme, extra = {}) {
  return {
    paper_bgcolor: theme.surface,
    plot_bgcolor: theme.surface,
    font: { family: theme.font, size: 12, color: theme.text },
    margin: { l: 64, r: 18, t: 10, b: 46 },
    hoverlabel: { bgcolor: theme.hoverBg, bordercolor: theme.axis, font: { color: theme.text } },
    legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom",
      bgcolor: "rgba(0,0,0,0)", font: { color: theme.text, size: 12 } },
    showlegend: true,
    hovermode: "closest",
    ...extra,
  };
}
