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

/// The JSON schema of an OML pipeline for one snapshot, generated from the registry: the runnable
/// components as alternatives of a step, each with its own config schema, and the snapshot's table
/// names as the enum of `table` for the extractors of the snapshot's family.
package enum PipelineSchema {
    /// The schema, as sent in OpenAI's `response_format` (and accepted by vLLM, llama.cpp and Ollama).
    package static func make(registry: ComponentRegistry = .builtin, snapshot: Snapshot?) -> JSONValue {
        let family = snapshot.flatMap { ConnectionFamily.canonical($0.family) }
        let tables = snapshot.map { snapshot in
            snapshot.tables.map { JSONValue.string(BuiltinPlanner.tableReference($0, family: snapshot.family)) }
        } ?? []
        var alternatives: [JSONValue] = []
        for spec in registry.specs where spec.runnable {
            var config = spec.json["configSchema"] ?? .object(["type": "object"])
            if case .object(var object) = config {
                // oneOf of required groups is not understood by every server's grammar; lint checks it.
                object.removeValue(forKey: "oneOf")
                if spec.role == .extractor, let family, spec.family.flatMap(ConnectionFamily.canonical) == family, !tables.isEmpty,
                    case .object(var properties)? = object["properties"], case .object(var table)? = properties["table"]
                {
                    table["enum"] = .array(tables)
                    properties["table"] = .object(table)
                    object["properties"] = .object(properties)
                }
                config = .object(object)
            }
            alternatives.append(.object([
                "type": "object", "additionalProperties": false, "required": ["id", "component", "mode", "config"],
                "properties": .object([
                    "id": .object(["type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"]),
                    "component": .object(["type": "string", "enum": .array([.string(spec.name)])]),
                    "mode": .object(["type": "string", "enum": .array(spec.stepModes.map(JSONValue.string))]),
                    "needs": .object(["type": "array", "items": .object(["type": "string"])]),
                    "config": config,
                ]),
            ]))
        }
        return anchoringPatterns(.object([
            "type": "object", "additionalProperties": false, "required": ["oml_version", "name", "steps"],
            "properties": .object([
                "oml_version": .object(["type": "string", "enum": ["0.1.0"]]),
                "name": .object(["type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"]),
                "description": .object(["type": "string"]),
                "steps": .object(["type": "array", "minItems": 1, "items": .object(["anyOf": .array(alternatives)])]),
            ]),
        ]))
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
