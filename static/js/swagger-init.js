// Swagger UI for /docs, served from the installed fastapi-offline package (no CDN) and
// started from this file rather than an inline script, so /docs keeps the page's CSP.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  tryItOutEnabled: true,
});
