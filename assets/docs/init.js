// Starts the API reference at /docs (assets/docs.html): Swagger UI, copied from swagger-ui-dist
// 5.35.0 into assets/docs/ by scripts/vendor.mjs, renders this relay's own
// /openapi.json. Everything is same-origin: no validator badge (validatorUrl: null, which would
// call validator.swagger.io), no fonts or images from elsewhere. Loaded as a file so the page's
// CSP needs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    // "Try it out" calls this relay (connect-src 'self'): paste an API key under Authorize.
    tryItOutEnabled: false,
    persistAuthorization: false,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "none",
    filter: true,
  });
});
