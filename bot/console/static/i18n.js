// The page's messages in the reader's language, rendered by the server from the catalogs.
"use strict";
window.T = (function () {
  const el = document.getElementById("i18n");
  const messages = el ? JSON.parse(el.textContent) : {};
  return function (key, params) {
    let text = messages[key] || key;
    for (const [k, v] of Object.entries(params || {})) text = text.replace(`%(${k})s`, String(v));
    return text;
  };
})();
