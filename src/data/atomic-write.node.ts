/**
 * Durable, all-or-nothing outputs (Node). Every file Mammals writes goes through here:
 *
 *   1. a temporary file is created next to the target (same directory, so the final rename never
 *      crosses file systems), named `<target>.mammals-tmp-<pid>-<random>`;
 *   2. the bytes are written, then fsync'ed (the data is on disk before the name points at it);
 *   3. the temporary file is renamed over the target (atomic on POSIX: a reader sees the old file
 *      or the new one, never a mix), or hard-linked when overwriting is refused (link fails if the
 *      target appeared meanwhile, so "no overwrite" holds without a race);
 *   4. the directory is fsync'ed, so the rename itself survives a power cut.
 *
 * Any failure (a full disk, a permission change, an exception in the producer) removes the
 * temporary file and leaves the previous target untouched. A process killed mid-write (SIGKILL,
 * OOM) cannot clean up; its temporary file carries its PID, and {@link cleanStaleTempFiles}
 * (called automatically for the target of each new write, and by the CLI at start-up for the
 * directories it writes to) removes those whose process is gone.
 *
 * {@link checkOutputPath} / {@link checkOutputDir} validate an output before long work starts, so
 * an hour of computation never ends in "directory does not exist".
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../core/errors.js";

/** The system calls a write makes; tests replace some of them to inject faults (a full disk). */
export interface WriteIo {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, bytes: Uint8Array, offset: number, length: number, position?: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  linkSync(existing: string, newPath: string): void;
  unlinkSync(path: string): void;
}

const NODE_IO: WriteIo = {
  openSync: (p, f, m) => fs.openSync(p, f, m),
  writeSync: (fd, b, o, l, p) => fs.writeSync(fd, b, o, l, p ?? null),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  linkSync: (a, b) => fs.linkSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
};

export interface OutputOptions {
  /** Replace an existing file (default true). When false an existing target is refused. */
  overwrite?: boolean;
  /** How the path is named in messages, e.g. "--out"; default "output". */
  label?: string;
}

export interface AtomicWriteOptions extends OutputOptions {
  /** Mode of a new file (default 0o666, less the umask); an overwritten file keeps its mode. */
  mode?: number;
  /** fsync file and directory (default true). False keeps atomicity but not power-cut durability. */
  durable?: boolean;
  /** Replacement system calls, for fault-injection tests. */
  io?: Partial<WriteIo>;
}

/** Marks temporary files in their name: `<target>.mammals-tmp-<pid>-<hex>`. */
export const TEMP_MARK = ".mammals-tmp-";
const TEMP_NAME = /^(.+)\.mammals-tmp-(\d+)-[0-9a-f]+$/;
/** Temporary names written by earlier versions (`<target>.tmp-<pid>`), also cleaned up. */
const LEGACY_TEMP_NAME = /^(.+)\.tmp-(\d+)$/;

function describeErrno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, "")}` : String(err?.message ?? e);
}

/** `path` with a symbolic link at the end followed, so overwriting replaces the file it points to. */
function resolveTarget(path: string): string {
  try {
    if (fs.lstatSync(path).isSymbolicLink()) return fs.realpathSync(path);
  } catch {
    // A dangling link or no file at all: write at the path as given.
  }
  return path;
}

/** A file being written under a temporary name; {@link commit} puts it in place, {@link abort} drops it. */
export class AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  private fd: number | undefined;
  private readonly io: WriteIo;
  private readonly options: AtomicWriteOptions;
  private done = false;
  bytesWritten = 0;

  constructor(path: string, options: AtomicWriteOptions = {}) {
    this.options = options;
    this.io = { ...NODE_IO, ...options.io };
    checkOutputPath(path, options);
    this.path = resolveTarget(path);
    cleanStaleTempFiles(dirname(resolve(this.path)), { target: this.path });
    this.tempPath = `${this.path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`;
    let keepMode: number | undefined;
    if (options.mode === undefined)
      try {
        keepMode = fs.statSync(this.path).mode & 0o7777;
      } catch {}
    try {
      // "wx": never reuse a name that exists, even one of ours from a recycled PID.
      this.fd = this.io.openSync(this.tempPath, "wx", options.mode ?? 0o666);
      // The umask applied at open; a replaced file keeps exactly its own mode.
      if (keepMode !== undefined)
        try {
          fs.fchmodSync(this.fd, keepMode);
        } catch {
          // A file system without modes (FAT, some mounts): the new file keeps the default.
        }
    } catch (e) {
      this.done = true;
      fail("IO", `${this.label()}: cannot create a temporary file next to it (${describeErrno(e)})`, {
        cause: e,
      });
    }
  }

  private label(): string {
    return this.options.label ? `${this.options.label} ${this.path}` : this.path;
  }

  /** Appends `bytes`; on failure the temporary file is removed and the target left as it was. */
  write(bytes: Uint8Array): void {
    if (this.done || this.fd === undefined)
      fail("STATE", `${this.label()}: write after the file was committed or aborted`);
    try {
      let off = 0;
      // writeSync may write less than asked (signals, pipes); loop until every byte is out.
      while (off < bytes.length) off += this.io.writeSync(this.fd, bytes, off, bytes.length - off);
      this.bytesWritten += bytes.length;
    } catch (e) {
      this.abort();
      fail(
        "IO",
        `${this.label()}: cannot write (${describeErrno(e)}) after ${this.bytesWritten} bytes; ` +
          "the previous file, if any, is unchanged",
        { cause: e },
      );
    }
  }

  /**
   * Overwrites bytes already written at `position` (a header field known only at the end, such as
   * a checksum); does not move the append position.
   */
  writeAt(position: number, bytes: Uint8Array): void {
    if (this.done || this.fd === undefined)
      fail("STATE", `${this.label()}: write after the file was committed or aborted`);
    if (!(Number.isSafeInteger(position) && position >= 0 && position + bytes.length <= this.bytesWritten))
      fail(
        "INVALID_ARGUMENT",
        `${this.label()}: writeAt(${position}) outside the ${this.bytesWritten} bytes written`,
      );
    try {
      let off = 0;
      while (off < bytes.length)
        off += this.io.writeSync(this.fd, bytes, off, bytes.length - off, position + off);
    } catch (e) {
      this.abort();
      fail(
        "IO",
        `${this.label()}: cannot write (${describeErrno(e)}); the previous file, if any, is unchanged`,
        {
          cause: e,
        },
      );
    }
  }

  /** Flushes to disk and atomically replaces the target. */
  commit(): void {
    if (this.done || this.fd === undefined)
      fail("STATE", `${this.label()}: commit after the file was committed or aborted`);
    const durable = this.options.durable !== false;
    try {
      if (durable) this.io.fsyncSync(this.fd);
      const fd = this.fd;
      this.fd = undefined;
      this.io.closeSync(fd);
      if (this.options.overwrite === false) {
        // link() refuses an existing target atomically; rename() would silently replace it.
        this.io.linkSync(this.tempPath, this.path);
        this.io.unlinkSync(this.tempPath);
      } else {
        this.io.renameSync(this.tempPath, this.path);
      }
      this.done = true;
    } catch (e) {
      this.abort();
      if ((e as NodeJS.ErrnoException)?.code === "EEXIST")
        fail("INVALID_ARGUMENT", `${this.label()}: already exists (created while this run was writing)`);
      fail(
        "IO",
        `${this.label()}: cannot finish writing (${describeErrno(e)}); the previous file, if any, is unchanged`,
        { cause: e },
      );
    }
    if (durable) syncDirectory(dirname(resolve(this.path)));
  }

  /** Drops the temporary file; the target is untouched. Safe to call more than once. */
  abort(): void {
    if (this.done && this.fd === undefined) return;
    this.done = true;
    if (this.fd !== undefined) {
      try {
        this.io.closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
    try {
      this.io.unlinkSync(this.tempPath);
    } catch {}
  }
}

/** fsync of a directory makes a rename in it durable; some platforms (Windows) cannot, and need not. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // EISDIR / EPERM / EINVAL where directories cannot be opened or synced: the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Starts an atomic write of `path`; call `write` any number of times, then `commit` (or `abort`). */
export function openAtomic(path: string, options: AtomicWriteOptions = {}): AtomicFile {
  return new AtomicFile(path, options);
}

/**
 * Writes `data` (bytes, text, or chunks produced lazily) to `path` atomically and durably. If the
 * producer throws, the error propagates and nothing is written. Returns the bytes written.
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string | Iterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): number {
  const file = openAtomic(path, options);
  try {
    if (typeof data === "string") file.write(new TextEncoder().encode(data));
    else if (data instanceof Uint8Array) file.write(data);
    else for (const chunk of data) file.write(chunk);
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return file.bytesWritten;
}

function statOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw e;
  }
}

function checkWritableDir(dir: string, what: string): void {
  const st = statOrUndefined(dir);
  if (!st) fail("INVALID_ARGUMENT", `${what}: directory ${dir} does not exist; create it first`);
  if (!st.isDirectory()) fail("INVALID_ARGUMENT", `${what}: ${dir} is not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    fail("INVALID_ARGUMENT", `${what}: directory ${dir} is not writable (${describeErrno(e)})`);
  }
}

/**
 * Checks, before any long work, that a file can be written at `path`: the parent directory exists
 * and is writable, the path is not a directory or a device, and (with `overwrite: false`) no file
 * is there yet. Throws INVALID_ARGUMENT naming the path (and its `label`, e.g. "--out").
 */
export function checkOutputPath(path: string, options: OutputOptions = {}): void {
  const what = options.label ? `${options.label} ${path}` : `output ${path}`;
  if (typeof path !== "string" || path === "")
    fail(
      "INVALID_ARGUMENT",
      `${options.label ?? "output"}: expected a file path, got ${JSON.stringify(path)}`,
    );
  const target = resolveTarget(path);
  let st: fs.Stats | undefined;
  try {
    st = statOrUndefined(target);
  } catch (e) {
    fail("INVALID_ARGUMENT", `${what}: cannot inspect it (${describeErrno(e)})`);
  }
  if (st?.isDirectory()) fail("INVALID_ARGUMENT", `${what}: is a directory; expected a file path`);
  if (st && !st.isFile())
    fail(
      "INVALID_ARGUMENT",
      `${what}: is not a regular file (a device, FIFO or socket); expected a file path`,
    );
  if (st && options.overwrite === false)
    fail(
      "INVALID_ARGUMENT",
      `${what}: already exists; expected a new file (remove it or choose another name)`,
    );
  checkWritableDir(dirname(resolve(target)), what);
}

/**
 * Checks, before any long work, that `dir` can receive output files: it is a writable directory,
 * or it does not exist yet and its nearest existing ancestor is a writable directory (so
 * `mkdir -p` will succeed). A regular file in the way is an error, not an EEXIST at the end.
 */
export function checkOutputDir(dir: string, options: { label?: string } = {}): void {
  const what = options.label ? `${options.label} ${dir}` : `output directory ${dir}`;
  if (typeof dir !== "string" || dir === "")
    fail("INVALID_ARGUMENT", `${options.label ?? "output directory"}: expected a directory path`);
  let at = resolve(dir);
  for (;;) {
    const st = statOrUndefined(at);
    if (st) {
      if (!st.isDirectory())
        fail(
          "INVALID_ARGUMENT",
          at === resolve(dir)
            ? `${what}: exists and is not a directory; expected a directory for the output files`
            : `${what}: ${at} is not a directory, so the output directory cannot be created`,
        );
      checkWritableDir(at, what);
      return;
    }
    const parent = dirname(at);
    if (parent === at) fail("INVALID_ARGUMENT", `${what}: no existing ancestor directory`);
    at = parent;
  }
}

/** True when a process with this PID exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporary files left in `dir` by killed runs: names made by {@link AtomicFile} (and the
 * `<name>.tmp-<pid>` names of earlier versions) whose PID is not a running process. With `target`,
 * only that file's temporaries. Temporaries of this process are never touched. Returns the paths
 * removed. (A PID recycled by an unrelated process keeps its temporary until that process ends;
 * on a volume shared across PID namespaces the check cannot see the other side's processes.)
 */
export function cleanStaleTempFiles(dir: string, options: { target?: string } = {}): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const only = options.target === undefined ? undefined : basename(options.target);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name) ?? LEGACY_TEMP_NAME.exec(name);
    if (!m || (only !== undefined && m[1] !== only)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    const p = join(dir, name);
    try {
      if (!fs.lstatSync(p).isFile()) continue;
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      // Removed meanwhile by another cleaner, or not ours to remove: leave it.
    }
  }
  return removed;
}
