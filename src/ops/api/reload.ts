// POST /v1/reload: read the config and zones again, check them completely (the same errors as
// `hadns check`), then swap them in at once. 200 with the result when it took; 422 with every error
// when it was rejected, the previous config still serving.

import { bodyObject, HttpError, type Route } from "./http.js";

export const reloadRoutes: Route[] = [
  {
    method: "POST",
    path: "/v1/reload",
    async handle({ rt, body }) {
      // No options yet: an empty body or {}.
      const b = await body();
      if (b !== undefined) bodyObject(b, []);
      const r = await rt.reload("admin API");
      if (!r.ok) {
        const n = r.errors.length;
        throw new HttpError(422, `reload rejected (${n} error${n === 1 ? "" : "s"}); still serving the previous config`, {}, { ...r });
      }
      return { json: r };
    },
  },
];
