import { ApiError, combineProblems } from './errors';

/**
 * The refusals of one request, gathered so that a platform learns every bad field at once: each check runs,
 * a refusal (a 4xx ApiError) is recorded instead of ending the request, and `throwIfAny` answers them all.
 * A field with a problem already is not checked again (one problem per field).
 */
export class Problems {
  private readonly errors: ApiError[] = [];

  /** Run `check` for `field`; its refusal is recorded and undefined returned. Other errors pass through. */
  check<T>(field: string, check: () => T): T | undefined {
    if (this.has(field)) return undefined;
    try {
      return check();
    } catch (err) {
      this.record(err);
      return undefined;
    }
  }

  async checkAsync<T>(field: string, check: () => Promise<T>): Promise<T | undefined> {
    if (this.has(field)) return undefined;
    try {
      return await check();
    } catch (err) {
      this.record(err);
      return undefined;
    }
  }

  /** Record a refusal; anything that is not one (a bug, the database) is thrown on. */
  record(err: unknown): void {
    if (!(err instanceof ApiError) || err.statusCode >= 500) throw err;
    this.errors.push(err);
  }

  /** Whether `field` (or a field inside it, `field.x`) has a problem. */
  has(field: string): boolean {
    const inside = (f: string | undefined) => f !== undefined && (f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));
    return this.errors.some((e) => inside(e.field) || e.fields?.some((p) => inside(p.field)));
  }

  get any(): boolean {
    return this.errors.length > 0;
  }

  /** One answer for everything found: the first refusal's status and code, every bad field listed. */
  throwIfAny(): void {
    if (this.errors.length > 0) throw combineProblems(this.errors);
  }
}
