/** A refusal of inbound mail; `reason` is the SMTP reply text ("550 5.7.1 ...") the sender sees. */
export class Rejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "Rejection";
  }
}
