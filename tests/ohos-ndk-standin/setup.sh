#!/usr/bin/env bash
# Assembles the stand-in OpenHarmony NDK into target/ohos-ndk-standin/ (use it as
# OHOS_NDK_HOME) from Debian bookworm packages: clang-14, lld-14, llvm-14, musl for x86_64
# and arm64, compiler-rt's builtins and LLVM's libunwind for both. README.md next to this
# script says what it stands in for and how it differs from the real NDK.
#
# Usage: bash tests/ohos-ndk-standin/setup.sh
# Installs the Debian packages it needs when they are missing (as root; arm64 is added as a
# foreign architecture). Does nothing when the stand-in is up to date (same script, packages
# and NAPI function list); otherwise assembles it afresh. Needs Debian on x86_64.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
out="$PWD/target/ohos-ndk-standin"
debs="$PWD/target/ohos-ndk-standin-debs"

if [ "$(uname -m)" != x86_64 ] || [ "$(dpkg --print-architecture 2>/dev/null)" != amd64 ]; then
  echo "ohos-ndk-standin: needs Debian on x86_64 (amd64)" >&2
  exit 2
fi
source "$here/apt-need.sh"
apt_need clang-14 lld-14 llvm-14 musl-dev:amd64 musl-dev:arm64 libclang-rt-14-dev:amd64 libclang-rt-14-dev:arm64

llvm=/usr/lib/llvm-14/bin
version="$("$llvm/clang" -dumpversion)"        # 14.0.6
debian_rt="$("$llvm/clang" -print-resource-dir)" # /usr/lib/llvm-14/lib/clang/14.0.6
pkg_version="$(dpkg-query -W -f='${Version}' clang-14)"

# Two packages are downloaded and unpacked here rather than installed: LLVM's libunwind
# (libunwind-14-dev; installing it would put an LLVM libunwind.so on this machine's default
# library path), which the NDK ships as native/llvm/lib/<triple>/libunwind.a, and the Linux
# UAPI headers of both CPUs (linux-libc-dev, of one version), which the NDK's sysroot has
# and musl does not. Kept in target/ohos-ndk-standin-debs/ and reused.
mkdir -p "$debs"
download() { # download <package:arch> <file glob>
  ls "$debs"/$2 >/dev/null 2>&1 && return 0
  echo "== apt-get download $1"
  (cd "$debs" && apt-get download -q "$1" 2>/dev/null) || {
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; fi
    (cd "$debs" && apt-get download -q "$1")
  }
}
download "libunwind-14-dev:amd64=$pkg_version" 'libunwind-14-dev_*_amd64.deb'
download "libunwind-14-dev:arm64=$pkg_version" 'libunwind-14-dev_*_arm64.deb'
download linux-libc-dev:amd64 'linux-libc-dev_*_amd64.deb'
uapi_version="$(basename "$(ls "$debs"/linux-libc-dev_*_amd64.deb | head -n 1)" | cut -d_ -f2)"
download "linux-libc-dev:arm64=$uapi_version" "linux-libc-dev_${uapi_version}_arm64.deb"

stamp="$(
  {
    cat "$0" "$here/glibc-fortify-shim.c" "$here/napi-functions.js"
    dpkg-query -W -f='${Package}:${Architecture} ${Version}\n' clang-14 lld-14 llvm-14 musl-dev:amd64 musl-dev:arm64 \
      libclang-rt-14-dev:amd64 libclang-rt-14-dev:arm64
    sha256sum "$debs"/libunwind-14-dev_*.deb "$debs"/linux-libc-dev_"$uapi_version"_*.deb
    node "$here/napi-functions.js" aarch64-unknown-linux-ohos
    node "$here/napi-functions.js" x86_64-unknown-linux-ohos
  } | sha256sum | cut -d' ' -f1
)"
if [ "$(cat "$out/.standin-stamp" 2>/dev/null || true)" = "$stamp" ]; then
  echo "stand-in NDK is up to date: OHOS_NDK_HOME=$out"
  exit 0
fi
echo "== assembling the stand-in NDK in $out"
tmp="$out.tmp"
rm -rf "$tmp"
native="$tmp/native"
mkdir -p "$native/llvm/bin" "$native/sysroot/usr/include"

# ---- native/llvm/bin: LLVM 14's tools, and clang behind a wrapper (below).
for tool in ld.lld lld llvm-ar llvm-ranlib llvm-nm llvm-strip llvm-objcopy llvm-objdump llvm-readelf \
  llvm-readobj llvm-size llvm-symbolizer llvm-addr2line; do
  ln -s "$llvm/$tool" "$native/llvm/bin/$tool"
done
# The NDK's clang knows the OpenHarmony triples; clang 14 does not (they came in clang 17).
# The wrapper maps them to the musl ones with OpenHarmony's sysroot layout and the defaults
# of OpenHarmony's clang driver (clang/lib/Driver/ToolChains/OHOS.cpp upstream): compiler-rt,
# lld, emulated TLS, PIC on aarch64, and its linker options -z now -z relro
# -z max-page-size=4096 --hash-style=both --enable-new-dtags. Other targets pass through.
cat >"$native/llvm/bin/clang" <<WRAPPER
#!/usr/bin/env bash
# Stand-in NDK clang (tests/ohos-ndk-standin/README.md): Debian's clang $version for
# --target=aarch64-linux-ohos / x86_64-linux-ohos, mapped to <cpu>-unknown-linux-musl.
set -euo pipefail
real="$llvm/clang"
native="\$(cd "\$(dirname "\$(readlink -f "\$0")")/../.." && pwd)"
cpu=""; sysroot=""; mode=link; libs=1; next=""; args=()
for a in "\$@"; do
  if [ "\$next" = target ]; then next=""; a="--target=\$a"; fi
  if [ "\$next" = sysroot ]; then next=""; a="--sysroot=\$a"; fi
  case "\$a" in
    -target|--target) next=target; continue ;;
    --sysroot) next=sysroot; continue ;;
    --target=aarch64-linux-ohos|--target=aarch64-unknown-linux-ohos) cpu=aarch64; continue ;;
    --target=x86_64-linux-ohos|--target=x86_64-unknown-linux-ohos) cpu=x86_64; continue ;;
    --sysroot=*) sysroot="\${a#--sysroot=}"; continue ;;
    -c|-S|-E|-M|-MM|-fsyntax-only) mode=compile ;;
    -print-*|--print-*|-dump*) [ "\$mode" = compile ] || mode=print ;;
    -nodefaultlibs) [ "\$libs" = 0 ] || libs=startfiles ;;
    -nostdlib) libs=0 ;;
  esac
  args+=("\$a")
done
if [ -z "\$cpu" ]; then exec "\$real" "\$@"; fi
t="\$cpu-linux-ohos"
sysroot="\${sysroot:-\$native/sysroot}"
pre=(--target="\$cpu-unknown-linux-musl" --sysroot="\$sysroot" -resource-dir "\$native/llvm/lib/clang/$version"
  --gcc-toolchain="\$native/llvm/no-gcc" -femulated-tls
  -D__OHOS_FAMILY__=1 -D__OHOS__=1 -isystem "\$sysroot/usr/include/\$t")
if [ "\$cpu" = aarch64 ]; then pre+=(-fPIC); fi
# compiler-rt's builtins and LLVM's libunwind (static) are the runtime libraries.
if [ "\$mode" = print ]; then pre+=(--rtlib=compiler-rt); fi
# (-nodefaultlibs keeps the start files, which --rtlib chooses: compiler-rt's crtbegin/crtend.)
if [ "\$mode" = link ] && [ "\$libs" != 0 ]; then pre+=(--rtlib=compiler-rt); fi
if [ "\$mode" = link ] && [ "\$libs" = 1 ]; then pre+=(--unwindlib=libunwind -static-libgcc); fi
if [ "\$mode" = link ]; then
  pre+=(-fuse-ld=lld -B "\$sysroot/usr/lib/\$t" -L "\$sysroot/usr/lib/\$t" -L "\$native/llvm/lib/\$t"
    -Wl,-z,now -Wl,-z,relro -Wl,-z,max-page-size=4096 -Wl,--hash-style=both -Wl,--enable-new-dtags)
fi
exec "\$real" "\${pre[@]}" \${args[@]+"\${args[@]}"}
WRAPPER
chmod +x "$native/llvm/bin/clang"
clang="$native/llvm/bin/clang"

# ---- native/llvm/lib/clang/<version>: clang's own headers and, per target, compiler-rt's
# builtins and crtbegin/crtend under the NDK's names (lib/<cpu>-linux-ohos/...), also
# reachable under the musl triple, where clang 14 looks for them.
resource="$native/llvm/lib/clang/$version"
mkdir -p "$resource/lib"
ln -s "$debian_rt/include" "$resource/include"

# ---- native/sysroot/usr/include: musl's headers; the ones that differ between the two
# CPUs (bits/*) go to usr/include/<cpu>-linux-ohos/, as in the NDK's sysroot.
inc="$native/sysroot/usr/include"
(cd /usr/include/aarch64-linux-musl && find . -type f) | sort >"$tmp/headers-a"
(cd /usr/include/x86_64-linux-musl && find . -type f) | sort >"$tmp/headers-x"
sort -u "$tmp/headers-a" "$tmp/headers-x" | while read -r h; do
  a="/usr/include/aarch64-linux-musl/$h" x="/usr/include/x86_64-linux-musl/$h"
  if [ -f "$a" ] && [ -f "$x" ] && cmp -s "$a" "$x"; then
    install -D -m 644 "$a" "$inc/$h"
  else
    [ -f "$a" ] && install -D -m 644 "$a" "$inc/aarch64-linux-ohos/$h"
    [ -f "$x" ] && install -D -m 644 "$x" "$inc/x86_64-linux-ohos/$h"
  fi
done

# The Linux UAPI headers: the common ones in usr/include, asm/ per CPU.
mkdir -p "$tmp/uapi-amd64" "$tmp/uapi-arm64"
dpkg-deb -x "$debs/linux-libc-dev_${uapi_version}_amd64.deb" "$tmp/uapi-amd64"
dpkg-deb -x "$debs/linux-libc-dev_${uapi_version}_arm64.deb" "$tmp/uapi-arm64"
for d in "$tmp"/uapi-amd64/usr/include/*; do
  case "$(basename "$d")" in *-linux-gnu) ;; *) cp -R "$d" "$inc/" ;; esac
done
cp -R "$tmp/uapi-amd64/usr/include/x86_64-linux-gnu/asm" "$inc/x86_64-linux-ohos/asm"
cp -R "$tmp/uapi-arm64/usr/include/aarch64-linux-gnu/asm" "$inc/aarch64-linux-ohos/asm"

for cpu in aarch64 x86_64; do
  t="$cpu-linux-ohos"; m="$cpu-linux-musl"
  case "$cpu" in aarch64) arch=arm64 ;; x86_64) arch=amd64 ;; esac

  mkdir -p "$resource/lib/$t"
  cp "$debian_rt/lib/linux/libclang_rt.builtins-$cpu.a" "$resource/lib/$t/libclang_rt.builtins.a"
  cp "$debian_rt/lib/linux/clang_rt.crtbegin-$cpu.o" "$resource/lib/$t/clang_rt.crtbegin.o"
  cp "$debian_rt/lib/linux/clang_rt.crtend-$cpu.o" "$resource/lib/$t/clang_rt.crtend.o"
  ln -s "$t" "$resource/lib/$cpu-unknown-linux-musl"

  # sysroot/usr/lib/<triple>: musl's start files, archives and libc.so (the C library and
  # the dynamic loader in one file, as on OpenHarmony).
  lib="$native/sysroot/usr/lib/$t"
  mkdir -p "$lib"
  cp /usr/lib/"$m"/*.o /usr/lib/"$m"/*.a "$lib/"
  cp /lib/"$m"/libc.so "$lib/libc.so"

  # The link-only libace_napi.z.so: every NAPI function napi-ohos declares for OpenHarmony,
  # each a trap (it is for linking; tests/ohos-load has its own for running).
  node "$here/napi-functions.js" "$cpu-unknown-linux-ohos" | sed 's/.*/void &(void) { __builtin_trap(); }/' >"$tmp/ace_napi-$cpu.c"
  "$clang" --target="$t" -shared -nostdlib -fPIC -O1 -Wl,-soname,libace_napi.z.so \
    -o "$lib/libace_napi.z.so" "$tmp/ace_napi-$cpu.c"

  # native/llvm/lib/<triple>/libunwind.a: Debian's LLVM libunwind plus the __fprintf_chk shim.
  mkdir -p "$native/llvm/lib/$t" "$tmp/unwind-$arch"
  dpkg-deb -x "$(ls "$debs"/libunwind-14-dev_*"_$arch.deb")" "$tmp/unwind-$arch"
  cp "$tmp/unwind-$arch/usr/lib/llvm-14/lib/libunwind.a" "$native/llvm/lib/$t/libunwind.a"
  chmod u+w "$native/llvm/lib/$t/libunwind.a"
  "$clang" --target="$t" -c -O2 -fPIC -o "$tmp/glibc-fortify-shim-$cpu.o" "$here/glibc-fortify-shim.c"
  "$llvm/llvm-ar" rs "$native/llvm/lib/$t/libunwind.a" "$tmp/glibc-fortify-shim-$cpu.o"
done
rm -rf "$tmp"/headers-* "$tmp"/ace_napi-*.c "$tmp"/unwind-* "$tmp"/uapi-* "$tmp"/*.o

# ---- A smoke test: each target compiles, links against the sysroot, and finds compiler-rt.
for t in aarch64-linux-ohos x86_64-linux-ohos; do
  printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' >"$tmp/hello.c"
  "$clang" --target="$t" -o "$tmp/hello-$t" "$tmp/hello.c"
  rt="$("$clang" --target="$t" --rtlib=compiler-rt -print-libgcc-file-name)"
  [ -f "$rt" ] || { echo "ohos-ndk-standin: clang reports builtins at $rt, which is missing" >&2; exit 1; }
  rm -f "$tmp/hello-$t"
done
rm -f "$tmp/hello.c"

echo "$stamp" >"$tmp/.standin-stamp"
rm -rf "$out"
mv "$tmp" "$out"
echo "stand-in NDK assembled: OHOS_NDK_HOME=$out"
