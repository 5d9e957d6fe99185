import OML
import OsirisCore

/// The deterministic planner of `--provider builtin`: it writes OML for the requests it fully
/// understands (copy or export every table, or named tables, of the snapshot's connection to CSV or
/// JSON-lines files or to another connection, with append, replace or upsert on the snapshot's primary
/// key) and says that a model is needed for anything else. Every word of the request must be one it
/// knows, so it never guesses.
public struct BuiltinPlanner: Sendable {
    /// The snapshot whose connection and tables the plan reads.
    public var snapshot: Snapshot?
    /// Where file outputs go.
    public var outputDirectory: String

    /// Creates a planner.
    public init(snapshot: Snapshot?, outputDirectory: String = "out") {
        self.snapshot = snapshot
        self.outputDirectory = outputDirectory
    }

    /// Words that carry no meaning for the plan.
    static let fillerWords: Set<String> = [
        "a", "an", "the", "all", "every", "each", "of", "to", "into", "as", "from", "and", "in", "on", "with", "using",
        "table", "tables", "file", "files", "format", "database", "db", "data", "rows", "them", "it", "please", "mode",
        "its", "their", "by", "primary", "key", "keys", "snapshot", "connection", "everything", "whole", "one", "per",
        "copy", "export", "dump", "move", "load", "sync", "replicate", "extract", "save", "write", "backup", "mirror",
        "csv", "json", "jsonl", "ndjson", "lines", "json-lines", "upsert", "upserting", "append", "appending", "replace",
        "replacing", "overwrite",
    ]

    /// The OML for `request`, or `ChatError.modelNeeded` saying why not.
    public func plan(_ request: String) throws(ChatError) -> String {
        guard let snapshot else {
            throw .modelNeeded(
                "the builtin planner needs a snapshot (pipe osiris-discover's output, --snapshot FILE or --connection REF); \(ModelSettings.howToConfigure)")
        }
        let words = PromptBuilder.words(of: request)
        let source = snapshot.connection
        let tableNames = Set(snapshot.tables.map { $0.name.lowercased() })
        var target: ConnectionReference? = nil
        for word in words where word.hasPrefix("@") {
            guard let reference = ConnectionReference(parsing: word) else { throw needed(request, "'\(word)'") }
            if reference == source || (reference.alias == source.alias
                && ConnectionFamily.canonical(reference.family) == ConnectionFamily.canonical(source.family)) { continue }
            guard target == nil || target == reference else { throw needed(request, "two target connections") }
            target = reference
        }
        let isTable = { (word: String) in
            tableNames.contains(word) || tableNames.contains(word + "s") || (word.hasSuffix("s") && tableNames.contains(String(word.dropLast())))
        }
        for word in words where !word.hasPrefix("@") && !Self.fillerWords.contains(word) && !isTable(word) {
            throw needed(request, "'\(word)'")
        }
        let has = { (options: [String]) in options.contains { words.contains($0) } }
        let verb = has(["copy", "export", "dump", "move", "load", "sync", "replicate", "extract", "save", "write", "backup", "mirror", "upsert", "append", "replace"])
        guard verb else { throw needed(request, "what to do (copy or export)") }

        enum Output: Equatable { case csv, jsonl, connection(ConnectionReference) }
        var outputs: [Output] = []
        if has(["csv"]) { outputs.append(.csv) }
        if has(["json", "jsonl", "ndjson", "json-lines"]) { outputs.append(.jsonl) }
        if let target { outputs.append(.connection(target)) }
        guard outputs.count == 1, let output = outputs.first else {
            throw needed(request, outputs.isEmpty ? "where to write (csv, json lines or @family.alias)" : "one output, not several")
        }
        var writeMode: String? = nil
        for (words_, mode) in [(["upsert", "upserting"], "upsert"), (["append", "appending"], "append"),
                               (["replace", "replacing", "overwrite"], "replace")] where has(words_) {
            guard writeMode == nil else { throw needed(request, "one write mode") }
            writeMode = mode
        }
        if let writeMode, writeMode != "replace", output == .csv || output == .jsonl {
            // A file is always written whole: only replace means something for it.
            throw needed(request, "\(writeMode) into a file")
        }

        let named = PromptBuilder.tablesNamed(in: request, snapshot: snapshot)
        let tables = named.isEmpty ? snapshot.tables : named
        guard !tables.isEmpty else { throw .modelNeeded("the snapshot of \(source) lists no tables") }

        let extractor: String
        switch ConnectionFamily.canonical(snapshot.family) ?? snapshot.family {
        case "postgres": extractor = "postgres.extractor"
        case "mysql": extractor = "mysql.extractor"
        case "sqlite": extractor = "sqlite.extractor"
        default: throw .modelNeeded("the builtin planner cannot read '\(snapshot.family)' connections; a model is needed")
        }
        // OML names a connection by alias. A snapshot discovered from a URL has none: a SQLite file is
        // named by its path instead; a server URL cannot be written into OML without its secrets.
        let sourceConfig: String
        if !source.alias.isEmpty {
            sourceConfig = "connection: \(Self.quoted(source.description))"
        } else if extractor == "sqlite.extractor", snapshot.connectionName.hasPrefix("sqlite:") {
            sourceConfig = "path: \(Self.quoted(String(snapshot.connectionName.dropFirst("sqlite:".count))))"
        } else {
            throw .modelNeeded(
                "the snapshot names its connection by URL ('\(snapshot.connectionName)'), which OML cannot refer to; "
                    + "add it to osiris_connections.yaml and discover it as @family.alias")
        }
        var lines: [String] = []
        let database = Self.identifier(snapshot.database.map { Self.baseName($0) } ?? source.alias)
        let suffix: String
        switch output {
        case .csv: suffix = "csv"
        case .jsonl: suffix = "jsonl"
        case .connection(let reference): suffix = Self.identifier(reference.alias)
        }
        lines.append("oml_version: \"0.1.0\"")
        lines.append("name: \(database.isEmpty ? "pipeline" : database)-to-\(suffix)")
        lines.append("steps:")
        for table in tables {
            let id = Self.identifier(table.name)
            let tableName = Self.tableReference(table, family: snapshot.family)
            lines.append("  - id: extract-\(id)")
            lines.append("    component: \(extractor)")
            lines.append("    mode: read")
            lines.append("    config:")
            lines.append("      \(sourceConfig)")
            lines.append("      table: \(Self.quoted(tableName))")
            lines.append("  - id: write-\(id)")
            switch output {
            case .csv, .jsonl:
                let isCSV = output == .csv
                lines.append("    component: filesystem.\(isCSV ? "csv" : "jsonl")_writer")
                lines.append("    mode: write")
                lines.append("    needs: [extract-\(id)]")
                lines.append("    config:")
                lines.append("      path: \(Self.quoted("\(outputDirectory)/\(table.name).\(isCSV ? "csv" : "jsonl")"))")
            case .connection(let reference):
                let family = ConnectionFamily.canonical(reference.family) ?? reference.family
                guard ["postgres", "mysql", "sqlite"].contains(family) else {
                    throw .modelNeeded("the builtin planner cannot write to '\(reference)'; a model is needed")
                }
                let mode = writeMode ?? "append"
                lines.append("    component: \(family).writer")
                lines.append("    mode: write")
                lines.append("    needs: [extract-\(id)]")
                lines.append("    config:")
                lines.append("      connection: \(Self.quoted(reference.description))")
                lines.append("      table: \(Self.quoted(table.name))")
                lines.append("      write_mode: \(mode)")
                if mode == "upsert" {
                    guard !table.primaryKey.isEmpty else {
                        throw .modelNeeded("table '\(table.name)' has no primary key in the snapshot, so an upsert has nothing to match on; name the key columns to a model, or append or replace")
                    }
                    lines.append("      primary_key: [\(table.primaryKey.map(Self.quoted).joined(separator: ", "))]")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func needed(_ request: String, _ what: String) -> ChatError {
        .modelNeeded(
            "the builtin planner does not understand \(what) in '\(request)'; it plans copies and exports of tables to csv, json lines or another connection; a model is needed for anything else: \(ModelSettings.howToConfigure)")
    }

    /// A table name as the extractor's `table` key takes it: schema-qualified outside the default schema.
    static func tableReference(_ table: SnapshotTable, family: String) -> String {
        let schema = table.schema
        if schema.isEmpty || schema == "main" || schema == "public" || ConnectionFamily.canonical(family) == "mysql" { return table.name }
        return "\(schema).\(table.name)"
    }

    /// Lowercase letters, digits and '-' only.
    static func identifier(_ text: String) -> String {
        var result = ""
        for character in text.lowercased() {
            if (character >= "a" && character <= "z") || (character >= "0" && character <= "9") {
                result.append(character)
            } else if !result.isEmpty, result.last != "-" {
                result.append("-")
            }
        }
        while result.last == "-" { result.removeLast() }
        return result
    }

    /// The last path component without its extension (`shop.db` → `shop`).
    static func baseName(_ path: String) -> String {
        let last = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = last.lastIndex(of: "."), dot != last.startIndex { return String(last[..<dot]) }
        return last
    }

    /// A YAML double-quoted string.
    static func quoted(_ text: String) -> String {
        JSONWriter.canonicalString(.string(text))
    }
}
