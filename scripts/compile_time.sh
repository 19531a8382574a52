#!/usr/bin/env bash
# Compile-time cost of `#[differentiable]`.
#
# Generates, in a temporary directory, a crate that depends on causalgrad
# (this repository, by path) with one file of 100 functions of about 20
# lines each (arithmetic, elementary functions, a loop, a branch, a loop
# with a branch inside), and times a debug `cargo build` of that crate
# without the attribute, with it on every function, and with it plus one
# function calling every `value_and_grad` (unused, the generated items are
# `#[inline]` and only type-checked; called, they are compiled to machine
# code too).
#
# Dependencies are built once first and excluded: each timed build only
# touches the crate's source and rebuilds it, non-incremental, so every
# timed build compiles the crate from scratch. What is timed is the crate's
# rustc invocation alone (through a RUSTC_WRAPPER): waits on cargo's locks,
# and dependencies rebuilt because the repository changed meanwhile, are not
# counted. Both its wall time and its CPU time (user + sys; steadier on a
# busy machine, larger than the wall time where rustc runs codegen in
# parallel) are reported, each the best of RUNS interleaved builds.
#
# Usage: scripts/compile_time.sh            (RUNS=5 scripts/compile_time.sh)
#        KEEP=1 scripts/compile_time.sh     keeps the temporary directory
#
# Needs only a Rust toolchain (cargo), bash and the POSIX tools; the first
# build downloads the dependencies unless they are already in cargo's cache.
set -euo pipefail

readonly FUNCTIONS=100
RUNS="${RUNS:-3}"
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "compile_time.sh: RUNS must be a positive integer (got '$RUNS')" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
if [[ ! -f "$root/Cargo.toml" ]] || ! grep -q '^name = "causalgrad"' "$root/Cargo.toml"; then
    echo "compile_time.sh: $root does not look like the causalgrad repository" >&2
    exit 2
fi
cargo="${CARGO:-cargo}"
if ! command -v "$cargo" >/dev/null 2>&1; then
    echo "compile_time.sh: cargo not found (install Rust from https://rustup.rs)" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/causalgrad-compile-time.XXXXXX")"
cleanup() {
    if [[ "${KEEP:-0}" == 1 ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Everything this script builds stays under $work, independent of caller
# settings that would change what is measured (a shared target directory,
# incremental compilation, a caching wrapper such as sccache).
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR=never
unset CARGO_BUILD_TARGET_DIR CARGO_BUILD_INCREMENTAL CARGO_PROFILE_DEV_INCREMENTAL
unset RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTC_WRAPPER CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER

# The rustc wrapper: runs rustc; for the generated crate appends
# "wall cpu" seconds to $CAUSALGRAD_CT_TIMES, for any other crate its name
# to $CAUSALGRAD_CT_OTHERS.
export CAUSALGRAD_CT_TIMES="$work/times"
export CAUSALGRAD_CT_OTHERS="$work/others"
export RUSTC_WRAPPER="$work/rustc-wrapper.sh"
cat >"$RUSTC_WRAPPER" <<'EOF'
#!/usr/bin/env bash
crate=
previous=
for arg in "$@"; do
    if [[ "$previous" == --crate-name ]]; then
        crate=$arg
    fi
    previous=$arg
done
if [[ "$crate" != causalgrad_compile_time ]]; then
    if [[ -n "$crate" ]]; then
        echo "$crate" >>"$CAUSALGRAD_CT_OTHERS"
    fi
    exec "$@"
fi
export LC_ALL=C
TIMEFORMAT='%3R %3U %3S'
result="$CAUSALGRAD_CT_TIMES.time"
{ time "$@" 2>&3 3>&-; } 3>&2 2>"$result"
status=$?
awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$result" >>"$CAUSALGRAD_CT_TIMES"
exit "$status"
EOF
chmod +x "$RUSTC_WRAPPER"

crate="$work/crate"
mkdir -p "$crate/src"
cat >"$crate/Cargo.toml" <<EOF
[package]
name = "causalgrad-compile-time"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
causalgrad = { path = '$root' }

# Not part of any enclosing workspace.
[workspace]
EOF
# Same dependency versions as the repository, where it has a lock file.
if [[ -f "$root/Cargo.lock" ]]; then
    cp "$root/Cargo.lock" "$crate/Cargo.lock"
fi

# A constant in [lo, lo + span) with two decimals, varied by function index.
constant() {
    local index=$1 salt=$2 lo=$3 span=$4
    local hundredths=$(((index * 37 + salt * 101) % (span * 100)))
    printf '%d.%02d' $((lo + hundredths / 100)) $((hundredths % 100))
}

# Function `func$1`, preceded by `$2` (the attribute line or nothing); the
# template is chosen by index.
function_source() {
    local i=$1 attribute=$2
    local k1 k2 k3 n
    k1=$(constant "$i" 1 0 2)
    k2=$(constant "$i" 2 0 3)
    k3=$(constant "$i" 3 1 2)
    n=$((3 + i % 7))
    printf '\n%s\n' "$attribute"
    case $((i % 5)) in
    0) cat <<EOF
pub fn func$i(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let s = a * b + c * $k1;
    let t = s - d * a + $k2;
    let u = t * t - s * c;
    let v = (u + a) / (1.0 + b * b);
    let w = v * d - t * $k3;
    let x = w * w + u * $k1;
    let y = x - v * s + a * b * c;
    let z = y * $k2 + w * d;
    let q = z / (2.0 + c * c);
    let r = q * q - z + t;
    let m = r * a + q * b;
    let n = m - r * c * $k3;
    let o = n * n + m;
    let p = o / (1.0 + d * d);
    let e = p + n * s;
    let g = e * $k1 - o;
    -g + p * r
}
EOF
        ;;
    1) cat <<EOF
pub fn func$i(x: f64, y: f64, z: f64) -> f64 {
    let a = (x * $k1).sin() + y.cos();
    let b = (a * z).exp() - (y * y + 1.0).sqrt();
    let c = (b - x).tanh() * $k2;
    let d = (x * x + y * y + $k3).ln();
    let e = c.powi(2) + d.atan();
    let f = (e * $k1).sinh() / (1.0 + z * z);
    let g = f.hypot(a) - b.abs();
    let h = (g + c).max(d) * x;
    let p = (h * $k2).cos() + (a * b).sin();
    let q = (p * p + 1.0).sqrt() - e;
    let r = q.mul_add(x, y) + f.exp_m1();
    let s = (r / (1.0 + h * h)).tanh();
    let t = s * z + (q * $k3).ln_1p().abs();
    let u = t.powf(2.0) - g * c;
    let v = u.cbrt() + (x - y).sin();
    v * a + h
}
EOF
        ;;
    2) cat <<EOF
pub fn func$i(x: f64, y: f64, w: f64) -> f64 {
    let mut acc = x * $k1;
    let mut hidden = y;
    let mut total = 0.0;
    for j in 0..$n {
        let fj = j as f64 * 0.1;
        let pre = acc * w + hidden * $k2 + fj;
        let h = pre.tanh();
        hidden = hidden * 0.5 + h * $k3;
        acc = acc + h * x - hidden * y * 0.01;
        total += h * h + acc * 0.1;
    }
    let scale = (1.0 + w * w).sqrt();
    let out = total / scale + hidden * acc;
    let a = out * out - total;
    let b = a * x + hidden;
    let c = b - out * y;
    c * $k1 + a
}
EOF
        ;;
    3) cat <<EOF
pub fn func$i(x: f64, y: f64, z: f64) -> f64 {
    let s = x * y - z * $k1;
    let mut r = s * s + x;
    if s > $k2 {
        r = r * (s - $k2 + 1.0).sqrt() + x.sin();
    } else if x < y {
        r = (x - y).exp() * r + z * $k3;
    } else {
        r = -r * y + (x * z).cos();
    }
    let t = if z > 0.0 { r * z + s } else { r - z * s };
    let u = t * t - r * $k1;
    let v = u / (1.0 + t * t);
    let w = if v > 0.5 { v.tanh() } else { v * v };
    let p = w * x + u * y;
    let q = p - s * r;
    let m = q * $k2 + w;
    m * t + v
}
EOF
        ;;
    *) cat <<EOF
pub fn func$i(k: f64, a: f64, x0: f64) -> f64 {
    let dt = 0.01 * $k3;
    let mut x = x0;
    let mut v = 0.0;
    let mut energy = 0.0;
    for step in 0..$((n * 4)) {
        let t = step as f64 * dt;
        let force = -k * x + a * (t * $k1).sin();
        if force > 0.0 {
            v += dt * force;
        } else {
            v += dt * force * $k2;
        }
        x += dt * v;
        energy += v * v * 0.5 + k * x * x * 0.5;
    }
    let mean = energy / $((n * 4)).0;
    let out = mean + x * v;
    out * $k1 - x
}
EOF
        ;;
    esac
}

# Writes the crate's source: `plain` (no attribute), `attribute` (on every
# function) or `called` (on every function, plus a function calling every
# `value_and_grad`).
write_source() {
    local variant=$1 attribute='' i
    if [[ "$variant" != plain ]]; then
        attribute='#[differentiable]'
    fi
    {
        echo '//! Generated by scripts/compile_time.sh.'
        echo '#![allow(unused, clippy::all)]'
        echo 'use causalgrad::differentiable;'
        for ((i = 0; i < FUNCTIONS; i++)); do
            function_source "$i" "$attribute"
        done
        if [[ "$variant" == called ]]; then
            echo
            echo 'pub fn call_every_gradient(x: f64) -> f64 {'
            echo '    let mut total = 0.0;'
            for ((i = 0; i < FUNCTIONS; i++)); do
                if ((i % 5 == 0)); then
                    echo "    total += func$i::value_and_grad(x, x, x, x).1 .0;"
                else
                    echo "    total += func$i::value_and_grad(x, x, x).1 .0;"
                fi
            done
            echo '    total'
            echo '}'
        fi
    } >"$crate/src/lib.rs.new"
    mv "$crate/src/lib.rs.new" "$crate/src/lib.rs"
}

# Builds the crate quietly; on failure shows cargo's output and exits.
build() {
    local log="$work/build.log"
    if ! (cd "$crate" && "$cargo" build -q) >"$log" 2>&1; then
        echo "compile_time.sh: cargo build failed:" >&2
        tail -n 60 "$log" >&2
        exit 1
    fi
}

# Builds the crate with the current source; prints "wall cpu", the seconds
# its rustc took.
timed_build() {
    : >"$CAUSALGRAD_CT_TIMES"
    : >"$CAUSALGRAD_CT_OTHERS"
    # A newer mtime makes cargo rebuild the crate (and only the crate).
    touch "$crate/src/lib.rs"
    build
    if [[ -s "$CAUSALGRAD_CT_OTHERS" ]]; then
        echo "note: dependencies rebuilt during a timed build, not counted (repository changed?):" \
            "$(tr '\n' ' ' <"$CAUSALGRAD_CT_OTHERS")" >&2
    fi
    local count
    count=$(wc -l <"$CAUSALGRAD_CT_TIMES" | tr -d ' ')
    if [[ "$count" != 1 ]]; then
        echo "compile_time.sh: expected one compilation of the crate, saw $count" >&2
        exit 1
    fi
    cat "$CAUSALGRAD_CT_TIMES"
}

# The smallest value of column $1 of the remaining arguments ("wall cpu").
best() {
    local column=$1
    shift
    printf '%s\n' "$@" | awk -v c="$column" 'NR == 1 || $c < m { m = $c } END { printf "%.2f\n", m }'
}

echo "building dependencies (not timed) in $work ..." >&2
# Also checks that the attribute accepts every function.
write_source called
build

plain=()
attribute=()
called=()
for ((run = 1; run <= RUNS; run++)); do
    write_source plain
    plain+=("$(timed_build)")
    write_source attribute
    attribute+=("$(timed_build)")
    write_source called
    called+=("$(timed_build)")
    echo "run $run/$RUNS (wall cpu): without ${plain[${#plain[@]} - 1]}," \
        "with ${attribute[${#attribute[@]} - 1]}," \
        "with, gradients called ${called[${#called[@]} - 1]}" >&2
done

plain_wall=$(best 1 "${plain[@]}")
plain_cpu=$(best 2 "${plain[@]}")
with_wall=$(best 1 "${attribute[@]}")
with_cpu=$(best 2 "${attribute[@]}")
called_wall=$(best 1 "${called[@]}")
called_cpu=$(best 2 "${called[@]}")
echo "rustc on the generated crate ($FUNCTIONS functions of ~20 lines; debug;" \
    "dependencies excluded), best of $RUNS:"
awk -v pw="$plain_wall" -v pc="$plain_cpu" -v ww="$with_wall" -v wc="$with_cpu" \
    -v cw="$called_wall" -v cc="$called_cpu" 'BEGIN {
    printf "  %-30s %8s %8s\n", "", "wall", "CPU"
    printf "  %-30s %7.2fs %7.2fs\n", "without #[differentiable]", pw, pc
    printf "  %-30s %7.2fs %7.2fs\n", "with #[differentiable]", ww, wc
    printf "  %-30s %+7.2fs %+7.2fs\n", "difference", ww - pw, wc - pc
    printf "  %-30s %7.2fs %7.2fs  (%+.2fs, %+.2fs over without)\n", \
        "with, every gradient called", cw, cc, cw - pw, cc - pc
}'
