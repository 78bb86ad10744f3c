/**
 * Which `params` names a submission may use. Params become the grader's environment variables, so a name
 * that the dynamic loader, a shell, an interpreter, a runtime or a common tool acts on by itself would
 * let a platform change how the grader starts (run the student's code before the grader's entrypoint,
 * load another library, look programs up elsewhere); and gradeflow's own names tell the grader where the
 * submission and the results file are. Both are refused.
 *
 * The rule: a name is refused when it equals one of `RESERVED_NAMES` or starts with one of
 * `RESERVED_PREFIXES`, compared exactly (these programs read exactly these names); gradeflow's own
 * names and the groups read regardless of case (`GRADEFLOW_CASE_INSENSITIVE`) are compared ignoring case.
 * Everything else is the grader's: `TESTS`, `LEVEL`, `lang`, `LANG`, `TZ`, `CC`, `CFLAGS`…
 *
 * Not listed on purpose: locale and time zone (`LANG`, `LC_*`, `TZ`), which change messages and dates,
 * not what runs; compiler and build flags a grader passes to its own tools (`CC`, `CFLAGS`, `LDFLAGS`),
 * which act only when the grader uses them; proxies (no network in the container).
 */

/** gradeflow's own names, and names read regardless of case by the programs that read them: compared ignoring case. */
const CASE_INSENSITIVE_PREFIXES: readonly string[] = [
  // gradeflow's own: SUBMISSION_DIR, SUBMISSION_NAME, SUBMISSION_FILE, RESULTS_FILE, and room for more.
  'SUBMISSION_',
  'RESULTS_',
  'GRADEFLOW_',
  // npm reads npm_config_* in any case (script-shell, node-options…); .NET's knobs.
  'NPM_CONFIG_',
  'DOTNET_',
  'COMPLUS_',
  'CORECLR_',
];

/** Exact names, compared exactly. */
const RESERVED_NAMES: readonly string[] = [
  // Where programs, home and scratch are: every shell and most programs act on these.
  'PATH', 'HOME', 'TMPDIR', 'SHELL', 'USER', 'LOGNAME', 'PWD', 'OLDPWD',
  // C library: character sets, locales, message catalogues, resolver, tunables loaded at start.
  'GCONV_PATH', 'GLIBC_TUNABLES', 'LOCPATH', 'NLSPATH', 'HOSTALIASES', 'RES_OPTIONS', 'LOCALDOMAIN',
  'GETCONF_DIR', 'TERMINFO', 'TERMINFO_DIRS', 'TERMCAP',
  // Shells: startup files, exported functions, options, prompts (expanded, so they run commands), word splitting.
  'ENV', 'BASHOPTS', 'SHELLOPTS', 'PS0', 'PS1', 'PS2', 'PS3', 'PS4', 'IFS', 'CDPATH', 'GLOBIGNORE',
  'PROMPT_COMMAND', 'ZDOTDIR', 'FPATH', 'INPUTRC',
  // Java and JVM launchers: agents and class paths load code before main.
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'JAVA_OPTS', 'JAVA_HOME', 'CLASSPATH',
  'MAVEN_OPTS', 'MAVEN_ARGS', 'GRADLE_OPTS', 'GRADLE_USER_HOME', 'SBT_OPTS', 'ANT_OPTS', 'ANT_ARGS',
  // Perl, PHP, Tcl.
  'PERLLIB', 'PERLIO', 'PERLDB_OPTS', 'PHPRC', 'TCLLIBPATH',
  // Go: tool flags (-toolexec runs a program), toolchain, caches and module sources.
  'GOFLAGS', 'GODEBUG', 'GOENV', 'GOROOT', 'GOPATH', 'GOBIN', 'GOCACHE', 'GOMODCACHE', 'GOTOOLCHAIN',
  'GOEXPERIMENT', 'GOPROXY', 'GOWORK', 'GOTMPDIR', 'GO111MODULE', 'GOSUMDB', 'GONOSUMDB', 'GOPRIVATE',
  'GONOPROXY', 'GOINSECURE', 'GOVCS', 'GCCGO',
  // Make: extra makefiles and options on every run; autoconf's site script.
  'MAKEFLAGS', 'MAKEFILES', 'MFLAGS', 'CONFIG_SITE',
  // Programs other programs start: pagers (less runs LESSOPEN), editors, browsers.
  'PAGER', 'MANPAGER', 'EDITOR', 'VISUAL', 'BROWSER', 'LESSOPEN', 'LESSCLOSE', 'LESSKEY',
  // Sanitizer runtimes (a symbolizer path is a program they run), valgrind.
  'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'MSAN_OPTIONS', 'TSAN_OPTIONS', 'HWASAN_OPTIONS',
  'ASAN_SYMBOLIZER_PATH', 'LLVM_SYMBOLIZER_PATH', 'VALGRIND_OPTS',
  // Python libraries that import a module the variable names (a matplotlib module:// backend, Django settings).
  'MPLBACKEND', 'MPLCONFIGDIR', 'IPYTHONDIR', 'DJANGO_SETTINGS_MODULE',
  // Which certificates TLS trusts (OPENSSL_* below: its configuration loads engines and providers, i.e. code).
  'SSL_CERT_FILE', 'SSL_CERT_DIR',
  // Rust's compiler and its wrapper.
  'RUSTC', 'RUSTFLAGS', 'RUSTDOCFLAGS',
];

/** Prefixes, compared exactly (except those in CASE_INSENSITIVE_PREFIXES, which are listed here too). */
const RESERVED_PREFIXES: readonly string[] = [
  ...CASE_INSENSITIVE_PREFIXES,
  // Dynamic loader (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT…) and malloc's tunables.
  'LD_', 'MALLOC_',
  // bash: BASH_ENV, exported functions (BASH_FUNC_name%%), BASH_XTRACEFD, BASH_LOADABLES_PATH…
  'BASH_',
  // Interpreters, their test runners and package managers: search paths, startup code, plugins, options
  // (PYTHONPATH, PYTHONSTARTUP, PYTEST_ADDOPTS/-p, NODE_OPTIONS, PERL5OPT, RUBYOPT, R_PROFILE, LUA_INIT…).
  'PYTHON', 'PYTEST_', 'COVERAGE_', 'PIP_', 'VIRTUAL_ENV', 'CONDA_',
  'NODE_', 'YARN_', 'COREPACK_', 'DENO_', 'BUN_',
  'PERL5', 'PERL_',
  'RUBY', 'GEM_', 'BUNDLE_', 'BUNDLER_',
  'R_', 'PHP_', 'LUA_', 'JULIA_', 'OCAML', 'GHC', 'CARGO_', 'RUSTC_', 'RUSTUP_', 'CGO_',
  // OpenSSL's configuration; git (GIT_DIR, GIT_EXEC_PATH, GIT_SSH_COMMAND, GIT_CONFIG_*…); where many
  // programs read their configuration (XDG_CONFIG_HOME: git's, pip's…).
  'OPENSSL_', 'GIT_', 'XDG_',
];

const CASE_INSENSITIVE = CASE_INSENSITIVE_PREFIXES.map((p) => p.toUpperCase());

/** Why a params name may not be used, or undefined when it may. */
export function reservedParamProblem(name: string): string | undefined {
  const upper = name.toUpperCase();
  const ownOrCaseless = CASE_INSENSITIVE.find((p) => upper.startsWith(p));
  if (ownOrCaseless) {
    const own = ['SUBMISSION_', 'RESULTS_', 'GRADEFLOW_'].includes(ownOrCaseless);
    return own ? `is reserved: gradeflow sets ${ownOrCaseless}* names itself` : `is reserved: ${ownOrCaseless}* changes how programs start`;
  }
  if (RESERVED_NAMES.includes(name)) return 'is reserved: loaders, shells or runtimes act on it before the grader does';
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `is reserved: names starting with ${prefix} change how the grader's programs start`;
  return undefined;
}
