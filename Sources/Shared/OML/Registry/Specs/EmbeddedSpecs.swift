// The built-in component registry (DESIGN.md §4), one spec per component in the spec format of the
// original Python Osiris plus this toolchain's extensions (`x-aliases`, `x-family`, `x-role`).
// Each spec lives in its own file as YAML text; lint, compile, chat prompts and the generated man
// page osiris-components(7) all read these texts.

/// The YAML spec text of every built-in component, in registry order.
enum EmbeddedSpecs {
    static let all: [String] = [
        postgresExtractor,
        postgresWriter,
        postgresProcessor,
        mysqlExtractor,
        mysqlWriter,
        supabaseExtractor,
        supabaseWriter,
        sqliteExtractor,
        sqliteWriter,
        sqliteProcessor,
        duckdbProcessor,
        filesystemCSVExtractor,
        filesystemCSVWriter,
        filesystemJSONLWriter,
    ]
}
