/**
 * The files behind the sandbox's PostgreSQL servers when they cannot stay where they are: the
 * verified copy of the binaries, and server files moved out of a data directory and back, across
 * filesystems and after a crash part-way.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binariesPackage } from '../../sandbox/postgres/binaries.ts';
import { checkBinariesCopy, copyBinaries } from '../../sandbox/postgres/binary-cache.ts';
import { NOBODY } from '../../sandbox/postgres/identity.ts';
import { AWAY_RECORD, copyAcross, recallServerFiles } from '../../sandbox/postgres/server-files.ts';

const AS_ROOT = process.getuid?.() === 0;
/** Who owns a server home: the server user (nobody) as root, this user otherwise. */
const HOME_OWNER = AS_ROOT ? NOBODY : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'caretaker-postgres-files-'));
});

afterAll(() => {
  // The binaries copy is read-only; its owner may still remove it once its directories are writable.
  execFileSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
});

/** servers/<home>/data/PG_VERSION as a server leaves it: the home owned by the server user, 0700. */
function serverTree(root: string, content: string): string {
  const servers = join(root, 'servers');
  const data = join(servers, 'home-1', 'data');
  mkdirSync(data, { recursive: true });
  chmodSync(servers, 0o711);
  chmodSync(join(servers, 'home-1'), 0o700);
  writeFileSync(join(data, 'PG_VERSION'), content, { mode: 0o600 });
  for (const path of [join(servers, 'home-1'), data, join(data, 'PG_VERSION')]) {
    chownSync(path, HOME_OWNER.uid, HOME_OWNER.gid);
  }
  return servers;
}

describe('moving server files across filesystems', () => {
  it('keeps owners and modes, removes the source, and leaves no partial copy', async () => {
    // Prepare
    const from = mkdtempSync(join(work, 'from-'));
    const to = mkdtempSync(join(work, 'to-'));
    const servers = serverTree(from, '18\n');

    // Act
    await copyAcross(servers, join(to, 'servers'));

    // Assess
    const home = lstatSync(join(to, 'servers', 'home-1'));
    const file = lstatSync(join(to, 'servers', 'home-1', 'data', 'PG_VERSION'));
    expect(existsSync(servers)).toBe(false);
    expect(readdirSync(to)).toEqual(['servers']);
    expect([home.uid, home.gid, home.mode & 0o777]).toEqual([HOME_OWNER.uid, HOME_OWNER.gid, 0o700]);
    expect([file.uid, file.mode & 0o777]).toEqual([HOME_OWNER.uid, 0o600]);
    expect(readFileSync(join(to, 'servers', 'home-1', 'data', 'PG_VERSION'), 'utf8')).toBe('18\n');
  });
});

describe('bringing server files back after a crash part-way', () => {
  it('takes the location’s copy over an older one and a partial one, then forgets the location', async () => {
    // Prepare: killed after copying servers/ back but before removing it at the location.
    const rdsRoot = mkdtempSync(join(work, 'rds-'));
    const location = mkdtempSync(join(work, 'location-'));
    serverTree(location, 'current\n');
    serverTree(rdsRoot, 'older\n');
    mkdirSync(join(rdsRoot, 'snapshots.partial-4242-abc'));
    writeFileSync(join(rdsRoot, AWAY_RECORD), JSON.stringify({ location, since: 'earlier' }));
    const before: string[] = [];

    // Act
    const recalled = await recallServerFiles(rdsRoot, async (where) => {
      before.push(where);
    });

    // Assess
    expect(recalled).toBe(location);
    expect(before).toEqual([location]);
    expect(readFileSync(join(rdsRoot, 'servers', 'home-1', 'data', 'PG_VERSION'), 'utf8')).toBe('current\n');
    expect(readdirSync(rdsRoot).sort()).toEqual(['servers']);
    expect(existsSync(location)).toBe(false);
  });

  it('refuses a location it does not own privately', async () => {
    // Prepare
    const rdsRoot = mkdtempSync(join(work, 'rds-'));
    const location = mkdtempSync(join(work, 'location-'));
    chmodSync(location, 0o777);
    writeFileSync(join(rdsRoot, AWAY_RECORD), JSON.stringify({ location, since: 'earlier' }));

    // Act
    const refused = await recallServerFiles(rdsRoot).then(
      () => undefined,
      (error: Error) => error,
    );

    // Assess
    expect(refused?.message).toContain(`${location} is not a directory owned by uid`);
    expect(existsSync(join(rdsRoot, AWAY_RECORD))).toBe(true);
  });
});

describe('the copy of the PostgreSQL binaries', () => {
  const entry = () => join(work, 'postgres-copy');

  beforeAll(async () => {
    await copyBinaries(binariesPackage(), 'test', entry());
  }, 120_000);

  it('is read-only, and checks out against its manifest', async () => {
    const postgres = lstatSync(join(entry(), 'native', 'bin', 'postgres'));

    expect(postgres.mode & 0o777).toBe(0o555);
    expect(lstatSync(join(entry(), 'native', 'bin')).mode & 0o777).toBe(0o555);
    expect(await checkBinariesCopy(entry())).toBeUndefined();
  });

  it('names a file whose content changed, then one that went missing', async () => {
    // Prepare
    const share = join(entry(), 'native', 'share', 'postgresql');
    const target = join(share, 'errcodes.txt');
    chmodSync(share, 0o755);
    chmodSync(target, 0o644);
    writeFileSync(target, 'tampered\n');
    chmodSync(target, 0o444);

    // Act
    chmodSync(share, 0o555);
    const changed = await checkBinariesCopy(entry());
    chmodSync(share, 0o755);
    unlinkSync(target);
    chmodSync(share, 0o555);
    const missing = await checkBinariesCopy(entry());

    // Assess
    expect(changed).toBe('has share/postgresql/errcodes.txt with changed content');
    expect(missing).toBe('is missing share/postgresql/errcodes.txt');
  });
});
