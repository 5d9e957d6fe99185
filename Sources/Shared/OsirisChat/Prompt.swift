import OML
import OsirisCore

/// Builds what the model is told (DESIGN.md §9 "Grounding"): the OML contract, component summaries
/// generated from the registry, connection aliases (never their values), and the snapshot pruned to
/// the tables the request concerns plus their foreign-key neighbours, within a size budget.
public struct PromptBuilder: Sendable {
    /// The component registry the summaries come from.
    public var registry: ComponentRegistry
    /// The connections file, whose aliases (only) are listed.
    public var connections: ConnectionsFile?
    /// The snapshot, pruned into the prompt.
    public var snapshot: Snapshot?
    /// The most characters of table detail the prompt carries.
    public var snapshotBudget: Int

    /// Creates a builder.
    public init(
        registry: ComponentRegistry = .builtin, connections: ConnectionsFile?, snapshot: Snapshot?, snapshotBudget: Int = 12_000
    ) {
        self.registry = registry
        self.connections = connections
        self.snapshot = snapshot
        self.snapshotBudget = snapshotBudget
    }

    /// The system message: the contract, the components and the answer format (one JSON object when
    /// the reply is constrained by a schema).
    public func systemMessage(structured: Bool = false) -> String {
        let answer = structured
            ? "Answer with exactly one JSON object that follows the response schema: the OML document with the same keys, as JSON."
            : "Answer with exactly one OML document in a ```yaml fence and nothing else."
        var text = """
            You write data pipelines in OML v0.1.0, a YAML format. \(answer) If the request is ambiguous and \
            you cannot choose sensibly, answer with one line 'QUESTION: <your question>' instead.

            OML rules:
            - Top-level keys: oml_version: "0.1.0" (a quoted string), name (lowercase-hyphenated), optional \
            description, optional params, steps (a non-empty list). Never use version, connectors, tasks or outputs.
            - Each step: id (lowercase letters, digits, '-'), component (from the list below), mode (read for \
            extractors, write for writers, transform for processors), needs (the ids of the steps it reads; \
            every writer and processor lists its inputs), config (the component's keys only).
            - A writer takes exactly one input. A processor's SQL reads each input as df_<id> with every \
            character outside [A-Za-z0-9_] turned into '_'.
            - Connections are referenced as "@family.alias" in config.connection; never write passwords, \
            tokens, DSNs or ${ENV} secrets in OML.
            - Only use tables and columns that exist in the snapshot below.
            - ${params.NAME} may appear in strings when NAME is declared under params.

            Components:

            """
        for spec in UsableComponents(registry: registry, snapshot: snapshot, connections: connections).specs {
            text += componentSummary(spec) + "\n"
        }
        text += "\nConnection aliases:\n"
        if let connections, !connections.entries.isEmpty {
            for entry in connections.entries {
                text += "- \(entry.reference)\(entry.isDefault ? " (default for \(entry.family))" : "")\n"
            }
        } else {
            text += "- none known; use the snapshot's connection\n"
        }
        return text
    }

    /// One component: name, mode, what it does, its config keys (required marked) and its guidance.
    func componentSummary(_ spec: ComponentSpec) -> String {
        let schema = spec.configSchema
        let keys = schema.propertyOrder.map { key -> String in
            let property = schema.properties[key]
            var item = key
            if schema.required.contains(key) { item += "*" }
            if let values = property?.allowedValues {
                item += " (" + values.compactMap(\.stringValue).joined(separator: "|") + ")"
            }
            return item
        }
        var line = "- \(spec.name) (mode: \(spec.stepModes.joined(separator: "/"))): \(spec.summary)\n  config: \(keys.joined(separator: ", "))"
        if !schema.exclusiveRequired.isEmpty {
            line += "\n  exactly one of: " + schema.exclusiveRequired.map { $0.joined(separator: "+") }.joined(separator: " or ")
        }
        return line
    }

    /// The user message: the snapshot's connection and relevant tables, then the request.
    public func userMessage(request: String) -> String {
        var text = ""
        if let snapshot {
            text += "Snapshot of \(snapshot.connection) (\(snapshot.family)"
            if let database = snapshot.database { text += ", database \(database)" }
            text += "); extract from it with \(extractorName(for: snapshot.family)) and connection \"\(snapshot.connection)\".\n"
            text += prunedSnapshot(for: request) + "\n"
        }
        text += "Request: \(request)"
        return text
    }

    /// The extractor component for a snapshot's family.
    func extractorName(for family: String) -> String {
        switch ConnectionFamily.canonical(family) ?? family {
        case "postgres": "postgres.extractor"
        case "mysql": "mysql.extractor"
        case "sqlite": "sqlite.extractor"
        default: "\(family).extractor"
        }
    }

    /// Every table's name, then the details of the tables the request names and their foreign-key
    /// neighbours (all tables when it names none), until the budget is spent.
    public func prunedSnapshot(for request: String) -> String {
        guard let snapshot else { return "" }
        let named = Self.tablesNamed(in: request, snapshot: snapshot)
        var chosen: [SnapshotTable]
        if named.isEmpty {
            chosen = snapshot.tables
        } else {
            chosen = named
            let names = Set(named.map(\.name))
            for table in snapshot.tables where !names.contains(table.name) {
                let references = table.foreignKeys.contains { names.contains($0.referencedTable) }
                let referenced = named.contains { $0.foreignKeys.contains { $0.referencedTable == table.name } }
                if references || referenced { chosen.append(table) }
            }
        }
        var text = "Tables: " + snapshot.tables.map { qualified($0) }.joined(separator: ", ") + "\n"
        var spent = 0
        var left: [String] = []
        for table in chosen {
            let detail = describe(table)
            if spent + detail.utf8.count > snapshotBudget {
                left.append(table.name)
                continue
            }
            spent += detail.utf8.count
            text += detail
        }
        if !left.isEmpty { text += "(columns of \(left.joined(separator: ", ")) left out for size)\n" }
        return text
    }

    func qualified(_ table: SnapshotTable) -> String {
        table.schema.isEmpty || table.schema == "main" || table.schema == "public" ? table.name : "\(table.schema).\(table.name)"
    }

    func describe(_ table: SnapshotTable) -> String {
        var line = "- \(qualified(table)): " + table.columns.map { "\($0.name) \($0.type.isEmpty ? $0.logicalType : $0.type)" }
            .joined(separator: ", ")
        if !table.primaryKey.isEmpty { line += "; primary key (\(table.primaryKey.joined(separator: ", ")))" }
        for key in table.foreignKeys {
            line += "; (\(key.columns.joined(separator: ", "))) -> \(key.referencedTable)(\(key.referencedColumns.joined(separator: ", ")))"
        }
        return line + "\n"
    }

    /// The snapshot tables whose names (or their singular or plural) appear as words of `request`.
    public static func tablesNamed(in request: String, snapshot: Snapshot) -> [SnapshotTable] {
        let words = Set(words(of: request))
        return snapshot.tables.filter { table in
            let name = table.name.lowercased()
            return words.contains(name) || words.contains(name + "s") || (name.hasSuffix("s") && words.contains(String(name.dropLast())))
                || words.contains("\(table.schema.lowercased()).\(name)")
        }
    }

    /// The lowercased words of `text`: letters, digits, `_`, `.`, `@` and `-` inside words.
    static func words(of text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber || character == "_" || character == "@" || character == "." || character == "-" {
                current.append(character)
            } else if !current.isEmpty {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result.map { word in
            var word = word
            while let last = word.last, last == "." || last == "-" { word.removeLast() }
            return word
        }.filter { !$0.isEmpty }
    }
}
