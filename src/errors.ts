/** A refusal of a person's request (web page / JSON API): a 4xx status and a reason they can read. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
