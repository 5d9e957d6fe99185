import OML
import OsirisCore

/// Whether drafts are asked for as JSON constrained by a schema (`--structured`).
public enum StructuredMode: String, Sendable, CaseIterable {
    /// On where the provider is known to support it (OpenAI-compatible servers), and off after the server rejects it once.
    case auto
    /// Always on; a provider without support is a configuration error.
    case on
    /// Never: the model answers in YAML.
    case off
}

/// The components a draft may use: every runnable one, except that a database component appears
/// only when the snapshot's connection or an entry of the connections file can serve it (with
/// neither, nothing narrows the list), and that with a snapshot the extractors are those of the
/// snapshot's family: the conversation is about that database, and a small model offered a CSV
/// extractor invents a file to read. Lint would refuse a component no connection serves anyway.
package struct UsableComponents {
    /// The components, in the registry's order.
    package let specs: [ComponentSpec]
    /// The references a step may name: the snapshot's (when it has an alias), then the connections file's.
    package let references: [ConnectionReference]

    /// The usable components of `registry` for `snapshot` and `connections`.
    package init(registry: ComponentRegistry = .builtin, snapshot: Snapshot?, connections: ConnectionsFile?) {
        var references: [ConnectionReference] = []
        if let snapshot, !snapshot.connection.alias.isEmpty { references.append(snapshot.connection) }
        for entry in connections?.entries ?? [] where !references.contains(entry.reference) { references.append(entry.reference) }
        let families = references.map(\.family) + (snapshot.map { [$0.family] } ?? [])
        let narrowed = snapshot != nil || connections != nil
        specs = registry.specs.filter { spec in
            guard spec.runnable else { return false }
            let family = spec.family.flatMap(ConnectionFamily.canonical)
            if spec.role == .extractor, let snapshotFamily = snapshot?.family {
                return family.map { ConnectionFamily.serves(connection: snapshotFamily, component: $0) } ?? false
            }
            guard let family, family != "filesystem", narrowed else { return true }
            return families.contains { ConnectionFamily.serves(connection: $0, component: family) }
        }
        self.references = references
    }

    /// The known references that can serve `spec` (none for a component without a database family).
    package func references(serving spec: ComponentSpec) -> [ConnectionReference] {
        guard let family = spec.family.flatMap(ConnectionFamily.canonical), family != "filesystem" else { return [] }
        return references.filter { ConnectionFamily.serves(connection: $0.family, component: family) }
    }
}

/// The JSON schema of an OML pipeline for one snapshot, generated from the registry: the runnable
/// components as alternatives of a step, each with its own config schema, and the snapshot's table
/// names as the enum of `table` for the extractors of the snapshot's family.
///
/// The schema is as narrow as the snapshot and the connections file allow, because a small model
/// fills in whatever the grammar leaves open (measured with Gemma 3 270M, bench/chat/RESULTS.md):
/// a database component appears only when a known connection can serve it, `connection` is the enum
/// of those references, `columns` the enum of the snapshot's column names, step ids carry their role
/// (`extract-`, `transform-`, `write-`) so that a writer's one input and a processor's inputs can
/// name only steps that produce data, and every free string and list has a length cap, so that a
/// model that loops inside a string or a `needs` list is cut off by the grammar instead of by the
/// token limit.
package enum PipelineSchema {
    /// The longest step id, pipeline name, SQL text (`query`) and other free string the schema allows:
    /// short enough that a model looping inside a string meets the cap well before a 512-token reply
    /// limit, long enough for the queries and paths of a real pipeline.
    static let maxIDLength = 40, maxNameLength = 64, maxQueryLength = 1_000, maxStringLength = 200
    /// The most `needs` entries of one step.
    static let maxNeeds = 8

    /// The most steps of a pipeline: a read and a write of every table of the snapshot and two more
    /// (processors), at least 4 and at most 64 (64 without a snapshot).
    static func maxSteps(tables: Int?) -> Int {
        guard let tables else { return 64 }
        return min(64, max(4, 2 * tables + 2))
    }

    /// The schema, as sent in OpenAI's `response_format` (and accepted by vLLM, llama.cpp and Ollama).
    package static func make(registry: ComponentRegistry = .builtin, snapshot: Snapshot?, connections: ConnectionsFile? = nil) -> JSONValue {
        let family = snapshot.flatMap { ConnectionFamily.canonical($0.family) }
        let tables = snapshot.map { snapshot in
            snapshot.tables.map { JSONValue.string(BuiltinPlanner.tableReference($0, family: snapshot.family)) }
        } ?? []
        var columnNames: [String] = []
        for table in snapshot?.tables ?? [] {
            for column in table.columns where !columnNames.contains(column.name) { columnNames.append(column.name) }
        }
        let usable = UsableComponents(registry: registry, snapshot: snapshot, connections: connections)

        var alternatives: [JSONValue] = []
        for spec in usable.specs {
            let componentFamily = spec.family.flatMap(ConnectionFamily.canonical)
            let serving = usable.references(serving: spec)
            var config = spec.json["configSchema"] ?? .object(["type": "object"])
            if case .object(var object) = config {
                // oneOf of required groups is not understood by every server's grammar; lint checks it.
                object.removeValue(forKey: "oneOf")
                if case .object(var properties)? = object["properties"] {
                    if !serving.isEmpty, case .object(var connection)? = properties["connection"] {
                        connection.removeValue(forKey: "pattern")
                        connection["enum"] = .array(serving.map { .string($0.description) })
                        properties["connection"] = .object(connection)
                    }
                    if spec.role == .extractor, let family, componentFamily == family {
                        if !tables.isEmpty, case .object(var table)? = properties["table"] {
                            table["enum"] = .array(tables)
                            properties["table"] = .object(table)
                        }
                        if !columnNames.isEmpty, case .object(var columns)? = properties["columns"] {
                            columns["items"] = .object(["type": "string", "enum": .array(columnNames.map(JSONValue.string))])
                            properties["columns"] = .object(columns)
                        }
                    }
                    for (key, property) in properties {
                        properties[key] = capped(property, maxLength: key == "query" ? maxQueryLength : maxStringLength)
                    }
                    object["properties"] = .object(properties)
                }
                config = .object(object)
            }
            var step: [String: JSONValue] = [
                "id": id(prefix: idPrefix(spec.role)),
                "component": .object(["type": "string", "enum": .array([.string(spec.name)])]),
                "mode": .object(["type": "string", "enum": .array(spec.stepModes.map(JSONValue.string))]),
                "config": config,
            ]
            var required: [JSONValue] = ["id", "component", "mode", "config"]
            // What lint asks of inputs, in the grammar: a writer reads exactly one step, a processor at
            // least one, and only steps that produce data (extractors and processors, by their ids).
            switch spec.role {
            case .extractor:
                break
            case .writer, .processor:
                step["needs"] = .object([
                    "type": "array", "minItems": 1, "maxItems": .int(spec.role == .writer ? 1 : maxNeeds),
                    "items": id(prefix: "(extract|transform)-"),
                ])
                required.insert("needs", at: 3)
            }
            alternatives.append(.object([
                "type": "object", "additionalProperties": false, "required": .array(required), "properties": .object(step),
            ]))
        }
        return anchoringPatterns(.object([
            "type": "object", "additionalProperties": false, "required": ["oml_version", "name", "steps"],
            "properties": .object([
                "oml_version": .object(["type": "string", "enum": ["0.1.0"]]),
                "name": .object(["type": "string", "pattern": .string("^[a-z0-9][a-z0-9-]{0,\(maxNameLength - 1)}$")]),
                "description": .object(["type": "string", "maxLength": .int(maxStringLength)]),
                "steps": .object([
                    "type": "array", "minItems": 1, "maxItems": .int(maxSteps(tables: snapshot?.tables.count)),
                    "items": .object(["anyOf": .array(alternatives)]),
                ]),
            ]),
        ]))
    }

    /// The id prefix of a step of `role` in a structured draft: `extract-`, `transform-` or `write-`.
    /// OML ids need no prefix; the schema asks for one so that a model gives every step its own id
    /// and `needs` can name only steps that produce data.
    static func idPrefix(_ role: ComponentRole) -> String {
        switch role {
        case .extractor: "extract-"
        case .processor: "transform-"
        case .writer: "write-"
        }
    }

    /// The schema of a step id starting with `prefix` (a pattern fragment), at most `maxIDLength` long.
    static func id(prefix: String) -> JSONValue {
        .object(["type": "string", "pattern": .string("^\(prefix)[a-z0-9][a-z0-9_-]{0,\(maxIDLength - 12)}$")])
    }

    /// `property` with a length cap on a free string (no enum, no pattern, no cap of its own) and on
    /// the items of a list of free strings.
    static func capped(_ property: JSONValue, maxLength: Int = maxStringLength) -> JSONValue {
        guard case .object(var object) = property else { return property }
        switch object["type"]?.stringValue {
        case "string" where object["enum"] == nil && object["pattern"] == nil && object["maxLength"] == nil:
            object["maxLength"] = .int(maxLength)
        case "array":
            if let items = object["items"] { object["items"] = capped(items, maxLength: maxLength) }
        default:
            break
        }
        return .object(object)
    }

    /// `schema` with every `pattern` rewritten, without changing what it matches, into the form the
    /// grammar converters of llama.cpp and llama-cpp-python take (measured with llama-cpp-python 0.3.36):
    /// - anchored at both ends (`^https?://` becomes `^https?://.*$`): JSON Schema patterns match
    ///   anywhere, the converters refuse an unanchored one, and llama-cpp-python then silently
    ///   constrains the reply to any JSON at all (a small model answers `{}`);
    /// - an escaped dot outside a character class written `[.]`: the converter copies `\.` into a
    ///   grammar literal that llama.cpp cannot parse, and llama-cpp-python's server dies on it.
    package static func anchoringPatterns(_ schema: JSONValue) -> JSONValue {
        switch schema {
        case .object(var object):
            for (key, value) in object {
                if key == "pattern", case .string(var pattern) = value {
                    pattern = bracketingEscapedDots(pattern)
                    if !pattern.hasPrefix("^") { pattern = "^.*" + pattern }
                    if !pattern.hasSuffix("$") || pattern.hasSuffix("\\$") { pattern += ".*$" }
                    object[key] = .string(pattern)
                } else {
                    object[key] = anchoringPatterns(value)
                }
            }
            return .object(object)
        case .array(let items):
            return .array(items.map(anchoringPatterns))
        default:
            return schema
        }
    }

    /// `pattern` with `\.` outside character classes written `[.]`.
    static func bracketingEscapedDots(_ pattern: String) -> String {
        var result = ""
        var inClass = false
        var escaped = false
        for character in pattern {
            if escaped {
                escaped = false
                if character == "." && !inClass { result += "[.]" } else { result += "\\" + String(character) }
                continue
            }
            switch character {
            case "\\": escaped = true
            case "[": inClass = true; result.append(character)
            case "]": inClass = false; result.append(character)
            default: result.append(character)
            }
        }
        if escaped { result += "\\" }
        return result
    }

    /// The `response_format` member of a chat-completions request, in the server's `style`.
    package static func responseFormat(_ schema: JSONValue, style: ResponseFormatStyle = .jsonSchema) -> JSONValue {
        switch style {
        case .jsonSchema: .object(["type": "json_schema", "json_schema": .object(["name": "oml_pipeline", "schema": schema])])
        case .jsonObject: .object(["type": "json_object", "schema": schema])
        }
    }
}

/// How an OpenAI-compatible server takes a response schema. OpenAI, vLLM and Ollama read
/// `{"type":"json_schema","json_schema":{"name":...,"schema":{...}}}`; llama-cpp-python's server (and
/// llama.cpp's) read `{"type":"json_object","schema":{...}}` and answer the first with HTTP 422.
package enum ResponseFormatStyle: Sendable, Equatable {
    /// OpenAI's `json_schema` form.
    case jsonSchema
    /// The `json_object` form with a `schema` member.
    case jsonObject
}

/// Writes a JSON value as block-style YAML, so that a pipeline the model gave as JSON is printed as
/// ordinary OML. Strings are double-quoted with JSON escapes (valid YAML); the OML keys come first
/// in their usual order, the others sorted.
package enum YAMLEmitter {
    static let keyOrder = ["oml_version", "name", "description", "metadata", "params", "profiles", "steps",
                           "id", "component", "mode", "needs", "retry", "config", "connection"]

    /// The YAML document of `value` (an object), ending with a newline.
    package static func document(_ value: JSONValue) -> String {
        var lines: [String] = []
        emit(value, indent: "", into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    static func orderedKeys(_ object: [String: JSONValue]) -> [String] {
        object.keys.sorted { lhs, rhs in
            let left = keyOrder.firstIndex(of: lhs) ?? keyOrder.count
            let right = keyOrder.firstIndex(of: rhs) ?? keyOrder.count
            return left == right ? lhs < rhs : left < right
        }
    }

    static func emit(_ value: JSONValue, indent: String, into lines: inout [String]) {
        guard case .object(let object) = value else {
            lines.append(indent + inline(value))
            return
        }
        for key in orderedKeys(object) {
            let member = object[key]!
            let name = plainKey(key)
            switch member {
            case .object(let inner) where !inner.isEmpty:
                lines.append("\(indent)\(name):")
                emit(member, indent: indent + "  ", into: &lines)
            case .array(let items) where items.contains(where: { $0.objectValue != nil || $0.arrayValue != nil }):
                lines.append("\(indent)\(name):")
                for item in items {
                    var inner: [String] = []
                    emit(item, indent: indent + "    ", into: &inner)
                    guard let first = inner.first else { continue }
                    lines.append(indent + "  - " + first.dropFirst(indent.count + 4))
                    lines.append(contentsOf: inner.dropFirst())
                }
            default:
                lines.append("\(indent)\(name): \(inline(member))")
            }
        }
    }

    static func inline(_ value: JSONValue) -> String {
        switch value {
        case .array(let items): "[" + items.map(inline).joined(separator: ", ") + "]"
        case .object(let object) where object.isEmpty: "{}"
        default: JSONWriter.canonicalString(value)
        }
    }

    static func plainKey(_ key: String) -> String {
        let plain = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            && !(key.first!.isNumber) && !["true", "false", "null", "yes", "no", "on", "off"].contains(key.lowercased())
        return plain ? key : JSONWriter.canonicalString(.string(key))
    }
}
