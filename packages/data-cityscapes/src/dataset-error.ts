/** A problem with a dataset file; the message starts with the file (relative to the dataset root). */
export class DatasetError extends Error {
  override name = 'DatasetError';

  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
