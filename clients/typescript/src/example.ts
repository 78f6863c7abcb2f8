/**
 * A parent's path through the public API, typed from the committed OpenAPI documents
 * (src/generated/*.ts, made by openapi-typescript; `make openapi` regenerates them):
 * search the catalogue, see what a module costs the family for the chosen child, apply.
 *
 * Only `fetch` and the generated types: a change in the contract that breaks this code fails
 * `tsc --noEmit` in `make test`.
 */
import type { components as BillingComponents, operations as Billing } from "./generated/billing";
import type { components as NavigatorComponents, operations as Navigator } from "./generated/navigator";

type Json<Op, Status extends number> = Op extends { responses: infer R }
  ? Status extends keyof R
    ? R[Status] extends { content: { "application/json": infer Body } }
      ? Body
      : never
    : never
  : never;

export type SearchQuery = NonNullable<Navigator["searchPrograms"]["parameters"]["query"]>;
export type SearchResult = Json<Navigator["searchPrograms"], 200>;
export type ProgramHit = NavigatorComponents["schemas"]["ProgramHit"];
export type QuoteQuery = Billing["getQuote"]["parameters"]["query"];
export type ModuleQuote = Json<Billing["getQuote"], 200>;
export type ApplyRequest = Navigator["applyForEnrolment"]["requestBody"]["content"]["application/json"];
export type Enrolment = Json<Navigator["applyForEnrolment"], 201>;
export type WaitlistedEnrolment = Json<Navigator["applyForEnrolment"], 202>;
export type Problem = NavigatorComponents["schemas"]["Problem"] | BillingComponents["schemas"]["Problem"];

/** An answer other than 2xx: the problem+json body (its `code` is in the error catalogue). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
}

export interface Api {
  /** The gateway, e.g. http://localhost:8080 */
  baseUrl: string;
  /** A bearer token; the catalogue search works without one. */
  token?: string;
}

type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;

function queryString(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, String(one));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function call<T>(api: Api, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  headers.set("Accept-Language", "ru");
  if (api.token) headers.set("Authorization", `Bearer ${api.token}`);
  const response = await fetch(`${api.baseUrl}${path}`, { ...init, headers });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as Problem | null;
    throw new ApiError(response.status, problem);
  }
  return { status: response.status, body: (await response.json()) as T };
}

/** GET /api/navigator/programs: one page of the catalogue (no token needed). */
export async function searchCatalogue(api: Api, query: SearchQuery): Promise<SearchResult> {
  return (await call<SearchResult>(api, `/api/navigator/programs${queryString(query)}`)).body;
}

/** GET /api/billing/quote: what the module costs the certificate and the family from a date. */
export async function quoteForChild(api: Api, query: QuoteQuery): Promise<ModuleQuote> {
  return (await call<ModuleQuote>(api, `/api/billing/quote${queryString(query)}`)).body;
}

/** POST /api/navigator/enrolments, safe to retry with the same Idempotency-Key. */
export async function applyForEnrolment(
  api: Api,
  request: ApplyRequest,
  idempotencyKey: string = crypto.randomUUID(),
): Promise<Enrolment | WaitlistedEnrolment> {
  const { body } = await call<Enrolment | WaitlistedEnrolment>(api, "/api/navigator/enrolments", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
    body: JSON.stringify(request),
  });
  return body;
}

/** 123456 kopecks -> "1 234,56 ₽" */
export function rubles(kopecks: number): string {
  const sign = kopecks < 0 ? "-" : "";
  const abs = Math.abs(kopecks);
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
  return `${sign}${whole},${String(abs % 100).padStart(2, "0")}\u00a0₽`;
}

/** The whole path: the first dance group with a free seat for a 9-year-old, its cost, the application. */
export async function enrolInFirstDanceGroup(api: Api, certificateId: string, startDate: string): Promise<string> {
  const page = await searchCatalogue(api, {
    text: "танцы",
    direction: "artistic",
    child_age: 9,
    free_seats_only: true,
    sort: "rating",
    limit: 10,
  });
  const hit: ProgramHit | undefined = page.items[0];
  if (hit === undefined) return `Ничего не найдено (всего ${page.total})`;

  const quote = await quoteForChild(api, { certificate_id: certificateId, module_id: hit.module_id, start_date: startDate });
  if (quote.error) return `Стоимость не рассчитана: ${quote.error.code}`;
  const family = quote.family_kopecks ?? 0;

  try {
    const enrolment = await applyForEnrolment(api, {
      certificate_id: certificateId,
      module_id: hit.module_id,
      start_date: startDate,
      payment_mode: "monthly",
    });
    return `«${hit.title}»: заявка ${enrolment.enrolment_id} (${enrolment.state}), доплата семьи ${rubles(family)}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return `Мест нет: ${error.problem?.code ?? ""}`;
    throw error;
  }
}
