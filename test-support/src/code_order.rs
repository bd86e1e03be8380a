//! The server link (`link/cc-ordered`, vssgen's template): checks that a server binary was
//! linked a second time with the functions of its `code-order.txt` placed first, and with its
//! relative relocations packed.

use std::path::Path;

/// The linker script linked `binary` (a binary cargo copied out of `deps/`, e.g.
/// `target/debug/viss-server`) again with the functions of its list it found placed first, in
/// that order. (A debug build finds fewer of them than a release build: the sizes in the
/// lists are those of release code.) The `deps/<stem>-<hash>` that is the same file as
/// `binary` is the one just linked, and its order file must sit beside it. Skipped off
/// x86_64 Linux with glibc, where the script is not the linker, with `VSSGEN_NO_CODE_ORDER`
/// set, and where the binary was not linked by lld (another linker configured).
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)] // a failed unwrap is a failed test
pub fn assert_linked_in_code_order(binary: &Path) {
    use std::os::unix::fs::MetadataExt;
    use std::process::Command;
    if !linked_by_the_script(binary, "VSSGEN_NO_CODE_ORDER", "code order") {
        return;
    }
    let bin_stem = binary
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace('-', "_");
    let built = binary.metadata().unwrap().ino();
    let deps = binary.with_file_name("deps");
    let linked = std::fs::read_dir(&deps)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{bin_stem}-"))
                && !name.contains('.')
                && path.metadata().unwrap().ino() == built
        })
        .unwrap_or_else(|| panic!("no {deps:?}/{bin_stem}-<hash> is {binary:?}"));
    let order_file = linked.with_file_name(format!(
        "{}.code-order",
        linked.file_name().unwrap().to_string_lossy()
    ));
    let order = std::fs::read_to_string(&order_file)
        .unwrap_or_else(|error| panic!("link/cc-ordered wrote no {order_file:?}: {error}"));
    let ordered: Vec<&str> = order.lines().collect();
    assert!(
        ordered.len() >= 50,
        "{} functions in {order_file:?}",
        ordered.len()
    );
    let listing = Command::new("nm")
        .arg("--defined-only")
        .arg(&linked)
        .output()
        .unwrap();
    assert!(listing.status.success());
    let listing = String::from_utf8_lossy(&listing.stdout);
    let address = |symbol: &str| {
        listing
            .lines()
            .find_map(|line| {
                let mut fields = line.split_whitespace();
                let address = fields.next()?;
                (fields.nth(1)? == symbol).then(|| u64::from_str_radix(address, 16).unwrap())
            })
            .unwrap_or_else(|| panic!("{symbol} is not in {linked:?}"))
    };
    let addresses: Vec<u64> = ordered
        .iter()
        .take(50)
        .map(|symbol| address(symbol))
        .collect();
    assert!(
        addresses.windows(2).all(|pair| pair[0] < pair[1]),
        "the first 50 functions of {order_file:?} are not in order in {linked:?}: {addresses:x?}"
    );
}

/// The linker script packed the relative relocations of `binary` (DT_RELR, `.relr.dyn`): the
/// dynamic loader reads every one at start, and unpacked (24 bytes each in `.rela.dyn`) they
/// stay resident, 540 KB for viss-server. The binary must name `GLIBC_ABI_DT_RELR`, so that
/// a glibc that cannot read them refuses it by that name. Skipped where the script does not
/// pack: off x86_64 Linux with glibc, with `VSSGEN_NO_PACKED_RELOCS` set, a binary lld did
/// not link, or a glibc before 2.36 here.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)] // a failed unwrap is a failed test
pub fn assert_relocations_packed(binary: &Path) {
    if !linked_by_the_script(binary, "VSSGEN_NO_PACKED_RELOCS", "packed relocations") {
        return;
    }
    if !glibc_reads_packed_relocations() {
        eprintln!("this glibc predates 2.36: no packed relocations to check");
        return;
    }
    let sections = readelf(&["-S", "-W"], binary);
    assert!(
        sections.contains(".relr.dyn"),
        "{binary:?} has no .relr.dyn:\n{sections}"
    );
    let unpacked = readelf(&["-r", "-W"], binary)
        .lines()
        .filter(|line| line.contains("R_X86_64_RELATIVE"))
        .count();
    // lld packs every relative relocation of an even address: the few left are odd ones
    assert!(
        unpacked < 200,
        "{unpacked} relative relocations of {binary:?} are not packed"
    );
    assert!(
        readelf(&["-V"], binary).contains("GLIBC_ABI_DT_RELR"),
        "{binary:?} does not name GLIBC_ABI_DT_RELR"
    );
}

/// A server binary does not load libm.so.6: viss-runtime's `server` feature defines `pow`
/// and `log`, the only libm functions it calls, and loading libm cost an idle server
/// 0.1-0.3 MB of RSS. The binary imports neither, and names no libm in `DT_NEEDED`.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[allow(clippy::missing_panics_doc)] // a failed assertion is a failed test
pub fn assert_libm_not_loaded(binary: &Path) {
    let dynamic = readelf(&["-d", "-W"], binary);
    assert!(
        !dynamic.contains("libm.so"),
        "{binary:?} loads libm:\n{dynamic}"
    );
    let imports = readelf(&["--dyn-syms", "-W"], binary);
    // `Num: Value Size Type Bind Vis Ndx Name [(version index)]`
    let imported = |name: &str| {
        imports.lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(6) == Some(&"UND")
                && fields
                    .get(7)
                    .is_some_and(|symbol| symbol.split('@').next() == Some(name))
        })
    };
    assert!(
        !imported("pow") && !imported("log"),
        "{binary:?} imports pow or log"
    );
}

/// Off x86_64 Linux with glibc the server keeps libm's `pow` and `log`: nothing to check.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")))]
pub fn assert_libm_not_loaded(_binary: &Path) {}

/// Off x86_64 Linux with glibc the script is not the linker: nothing to check.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")))]
pub fn assert_linked_in_code_order(_binary: &Path) {}

/// Off x86_64 Linux with glibc the script is not the linker: nothing to check.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")))]
pub fn assert_relocations_packed(_binary: &Path) {}

/// What `readelf ARGS binary` prints.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
fn readelf(args: &[&str], binary: &Path) -> String {
    let output = std::process::Command::new("readelf")
        .args(args)
        .arg(binary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "readelf {args:?} {binary:?} failed"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The script did its part (`what`) for `binary`: `off`, the variable that turns it off, is
/// unset and lld linked `binary` (it names itself in `.comment`); it orders and packs only
/// then. Says on stderr why a check is skipped.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn linked_by_the_script(binary: &Path, off: &str, what: &str) -> bool {
    if std::env::var_os(off).is_some() {
        eprintln!("{off} is set: no {what} to check");
        return false;
    }
    if !readelf(&["-p", ".comment"], binary).contains("Linker: LLD") {
        eprintln!("{binary:?} was not linked by lld: no {what} to check");
        return false;
    }
    true
}

/// The glibc here is 2.36 or later, as the script asks before it packs (`getconf`).
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn glibc_reads_packed_relocations() -> bool {
    let Ok(output) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut version = text
        .trim()
        .trim_start_matches("glibc ")
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = version.next().unwrap_or(0);
    let minor = version.next().unwrap_or(0);
    (major, minor) >= (2, 36)
}
