/**
 * The ZIP reader for the floors above (the asset fetcher unpacks `.zip` archives with it): the
 * same random-access reader PyTorch checkpoints are read with, with its inflation cap.
 *
 * @module
 */
export { type ZipEntry, ZipError, type ZipOptions, ZipReader } from "./_zip.ts";
