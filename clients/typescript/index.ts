/**
 * A typed client of the Macrotrack API: openapi-fetch over the types that
 * openapi-typescript generated from the server's OpenAPI document
 * (`schema.ts`, from `openapi.json`; `cargo xtask client` regenerates
 * both). Every call's path, parameters, body and answers are checked by tsc.
 */
import createFetchClient, { mergeHeaders, type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** The document's schemas by name, e.g. `Schemas["DayLogs"]`. */
export type Schemas = components["schemas"];

/** A client of every route of the API. */
export type MacrotrackClient = Client<paths>;

export interface Options extends ClientOptions {
  /** A user's bearer token, or the admin token for `/v1/admin` routes. */
  token?: string;
}

/** A client for `baseUrl` (e.g. `http://127.0.0.1:8080`), sending `token` on every request. */
export function createClient({ token, ...options }: Options = {}): MacrotrackClient {
  const headers =
    token === undefined ? options.headers : mergeHeaders(options.headers, { Authorization: `Bearer ${token}` });
  return createFetchClient<paths>({ ...options, headers });
}
