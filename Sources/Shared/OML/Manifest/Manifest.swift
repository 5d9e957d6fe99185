import OsirisCore

/// A manifest that cannot be used: it does not decode or has an unknown version (exit status 65).
public typealias ManifestError = FileFormatError

/// How often a step is tried and how long the first wait between tries is.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, at least 1 (1 means no retry).
    public var attempts: Int
    /// The wait before the second try; each later wait doubles, with jitter.
    public var backoffMilliseconds: Int

    /// Creates a retry policy.
    public init(attempts: Int, backoffMilliseconds: Int) {
        self.attempts = attempts
        self.backoffMilliseconds = backoffMilliseconds
    }
}

/// One step of a manifest: everything the runner needs, with defaults filled in and params substituted.
public struct ManifestStep: Sendable, Equatable {
    /// A step's mode in the manifest: the OML modes, with `read` spelled `extract`.
    public enum Mode: String, Sendable, CaseIterable {
        /// Reads from a source (an extractor).
        case extract
        /// Writes its one input to a target (a writer).
        case write
        /// Transforms its inputs into one output (a processor).
        case transform

        /// The mode of a component with `role`.
        public init(_ role: ComponentRole) {
            switch role {
            case .extractor: self = .extract
            case .writer: self = .write
            case .processor: self = .transform
            }
        }
    }

    /// The step id.
    public var id: String
    /// The component name, such as `postgres.extractor`.
    public var component: String
    /// What the step does; it must be the mode of the component's role.
    public var mode: Mode
    /// The steps whose output this step reads, in order (implicit inputs made explicit).
    public var needs: [String]
    /// The connection reference (`@pg.shop`), when the component uses a connection and one is named
    /// or is the family default in the connections file; resolved by the runner, never here.
    public var connection: String?
    /// The component config: defaults filled in, params substituted, legacy keys renamed, no secrets.
    public var config: JSONValue
    /// The retry policy.
    public var retry: RetryPolicy

    /// Creates a manifest step.
    public init(id: String, component: String, mode: Mode, needs: [String], connection: String?, config: JSONValue, retry: RetryPolicy) {
        self.id = id
        self.component = component
        self.mode = mode
        self.needs = needs
        self.connection = connection
        self.config = config
        self.retry = retry
    }
}

/// The compiled, deterministic plan of a pipeline (DESIGN.md §6, `osiris-manifest(5)`): the whole
/// contract between `oml-compile` and `osiris-exec`. Written as canonical JSON, for example:
///
/// ```json
/// {"fingerprints":{"compiler_fp":"sha256:…","manifest_fp":"sha256:…","oml_fp":"sha256:…","params_fp":"sha256:…","registry_fp":"sha256:…"},"manifest_version":1,"order":[["extract-orders"],["write-orders"]],"params":{},"pipeline":{"description":null,"metadata":{},"name":"orders-to-csv","oml_version":"0.1.0","profile":"default"},"steps":[…],"toolchain":{"compiler":"oml-compile 0.1.0"}}
/// ```
public struct Manifest: Sendable, Equatable {
    /// The manifest format version this toolchain writes and reads.
    public static let version = 1

    /// The pipeline's name.
    public var name: String
    /// The OML version of the source.
    public var omlVersion: String
    /// The active profile, `default` when none was chosen.
    public var profile: String
    /// The pipeline's description, when it has one.
    public var description: String?
    /// The source's `metadata`, verbatim.
    public var metadata: JSONValue
    /// The effective param values.
    public var params: [String: JSONValue]
    /// The steps in OML order.
    public var steps: [ManifestStep]
    /// The DAG's levels: the steps of one level may run in parallel.
    public var order: [[String]]
    /// `oml_fp`, `params_fp`, `registry_fp`, `compiler_fp` and `manifest_fp`.
    public var fingerprints: [String: String]
    /// The tools that made the manifest, such as `{"compiler": "oml-compile 0.1.0"}`.
    public var toolchain: [String: String]

    /// Creates a manifest.
    public init(
        name: String, omlVersion: String, profile: String, description: String?, metadata: JSONValue,
        params: [String: JSONValue], steps: [ManifestStep], order: [[String]], fingerprints: [String: String],
        toolchain: [String: String]
    ) {
        self.name = name
        self.omlVersion = omlVersion
        self.profile = profile
        self.description = description
        self.metadata = metadata
        self.params = params
        self.steps = steps
        self.order = order
        self.fingerprints = fingerprints
        self.toolchain = toolchain
    }

    /// The step with `id`.
    public func step(_ id: String) -> ManifestStep? { steps.first { $0.id == id } }

    /// The manifest as JSON; `includingManifestFingerprint: false` leaves out `manifest_fp`, which is
    /// the hash of exactly that value.
    public func json(includingManifestFingerprint: Bool = true) -> JSONValue {
        var fingerprints = self.fingerprints
        if !includingManifestFingerprint { fingerprints.removeValue(forKey: "manifest_fp") }
        return [
            "manifest_version": .int(Self.version),
            "pipeline": [
                "name": .string(name),
                "oml_version": .string(omlVersion),
                "profile": .string(profile),
                "description": description.map(JSONValue.string) ?? .null,
                "metadata": metadata,
            ],
            "params": .object(params),
            "steps": .array(steps.map { step in
                var object: [String: JSONValue] = [
                    "id": .string(step.id),
                    "component": .string(step.component),
                    "mode": .string(step.mode.rawValue),
                    "needs": .array(step.needs.map(JSONValue.string)),
                    "config": step.config,
                    "retry": ["attempts": .int(step.retry.attempts), "backoff_ms": .int(step.retry.backoffMilliseconds)],
                ]
                if let connection = step.connection { object["connection"] = .string(connection) }
                return .object(object)
            }),
            "order": .array(order.map { .array($0.map(JSONValue.string)) }),
            "fingerprints": .object(fingerprints.mapValues(JSONValue.string)),
            "toolchain": .object(toolchain.mapValues(JSONValue.string)),
        ]
    }

    /// The canonical bytes of the manifest file, with a final newline.
    public var canonicalBytes: [UInt8] { JSONWriter.line(json()) }

    /// Reads a manifest from its JSON bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(ManifestError) -> Manifest {
        let json: JSONValue
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw ManifestError(path: path, message: "the manifest is empty", exitStatus: .dataError)
        }
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
            if text.containsBytes("oml_version") || text.containsBytes("steps:") {
                throw ManifestError(
                    path: path, message: "this is OML, not a manifest; compile it first: oml-compile \(path) -o \(Self.suggestedOutput(for: path))",
                    exitStatus: .dataError)
            }
            throw ManifestError(
                path: path, message: "not a manifest: \(error.message)", range: SourceRange(start: error.position), exitStatus: .dataError)
        }
        return try decode(json, path: path)
    }

    /// Where the compile command shown in errors writes: `p.oml` -> `p.manifest.json`.
    static func suggestedOutput(for path: String) -> String {
        if path == "-" { return "pipeline.manifest.json" }
        for ending in [".oml.yaml", ".oml.yml", ".oml", ".yaml", ".yml"] where path.hasSuffix(ending) {
            return String(path.dropLast(ending.count)) + ".manifest.json"
        }
        return path + ".manifest.json"
    }

    /// Reads a manifest from JSON and validates it (`validate(registry:path:)`), and checks that its
    /// `manifest_fp` is the hash of what it holds, so a hand-edited manifest is refused.
    public static func decode(
        _ json: JSONValue, path: String, registry: ComponentRegistry = .builtin
    ) throws(ManifestError) -> Manifest {
        func fail(_ message: String) -> ManifestError { ManifestError(path: path, message: message, exitStatus: .dataError) }
        guard json.objectValue != nil else { throw fail("not a manifest: expected a JSON object") }
        guard let version = json["manifest_version"] else {
            if json["oml_version"] != nil || json["steps"]?.arrayValue?.first?["mode"]?.stringValue == "read" {
                throw fail("this is OML, not a manifest; compile it first: oml-compile \(path) -o \(Self.suggestedOutput(for: path))")
            }
            throw fail("not a manifest: missing 'manifest_version'")
        }
        guard version.intValue == Self.version else {
            throw fail("unsupported manifest_version \(JSONWriter.canonicalString(version)); this toolchain reads version \(Self.version)")
        }
        guard let pipeline = json["pipeline"], let name = pipeline["name"]?.stringValue else { throw fail("missing 'pipeline.name'") }
        guard let stepsJSON = json["steps"]?.arrayValue else { throw fail("missing 'steps'") }
        var steps: [ManifestStep] = []
        for (index, step) in stepsJSON.enumerated() {
            steps.append(try decodeStep(step, index: index, path: path))
        }
        guard let levels = json["order"]?.arrayValue else { throw fail("missing 'order'") }
        var order: [[String]] = []
        for (index, level) in levels.enumerated() {
            guard let ids = level.arrayValue, ids.allSatisfy({ $0.stringValue != nil }) else {
                throw fail("order[\(index)] must be a list of step ids")
            }
            order.append(ids.compactMap(\.stringValue))
        }
        let manifest = Manifest(
            name: name, omlVersion: pipeline["oml_version"]?.stringValue ?? "", profile: pipeline["profile"]?.stringValue ?? "default",
            description: pipeline["description"]?.stringValue, metadata: pipeline["metadata"] ?? [:],
            params: json["params"]?.objectValue ?? [:], steps: steps, order: order,
            fingerprints: (json["fingerprints"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            toolchain: (json["toolchain"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
        try manifest.validate(registry: registry, path: path)
        try checkFingerprint(json, path: path)
        // What is not read would be lost where the manifest is written out again (the sandbox's
        // `prepare` sends `json()`), so a manifest must be exactly what this toolchain writes.
        if let difference = firstDifference(manifest.json(), json, at: "") {
            throw fail("""
                '\(difference)' is not what this toolchain writes there (an unknown key, or a value of another type); \
                edit the pipeline's OML instead and compile it again: oml-compile FILE -o \(path == "-" ? "MANIFEST" : path)
                """)
        }
        return manifest
    }

    /// The path (`steps[1].retry`) of the first place where `read` differs from `written`, or nil.
    private static func firstDifference(_ written: JSONValue, _ read: JSONValue, at path: String) -> String? {
        switch (written, read) {
        case (.object(let left), .object(let right)):
            for key in Set(left.keys).union(right.keys).sorted() {
                let inner = path.isEmpty ? key : "\(path).\(key)"
                guard let a = left[key], let b = right[key] else { return inner }
                if let difference = firstDifference(a, b, at: inner) { return difference }
            }
            return nil
        case (.array(let left), .array(let right)):
            guard left.count == right.count else { return path }
            for (index, (a, b)) in zip(left, right).enumerated() {
                if let difference = firstDifference(a, b, at: "\(path)[\(index)]") { return difference }
            }
            return nil
        default:
            return written == read ? nil : path
        }
    }

    /// One entry of `steps`, with its fields' types checked.
    private static func decodeStep(_ step: JSONValue, index: Int, path: String) throws(ManifestError) -> ManifestStep {
        func fail(_ message: String) -> ManifestError { ManifestError(path: path, message: message, exitStatus: .dataError) }
        guard step.objectValue != nil else { throw fail("steps[\(index)] must be an object") }
        guard let id = step["id"]?.stringValue, !id.isEmpty else { throw fail("steps[\(index)] needs a non-empty 'id'") }
        guard let component = step["component"]?.stringValue, let modeText = step["mode"]?.stringValue else {
            throw fail("step '\(id)' needs 'component' and 'mode'")
        }
        guard let mode = ManifestStep.Mode(rawValue: modeText) else {
            let modes = ManifestStep.Mode.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw fail("step '\(id)' has mode '\(modeText)', which is not one of \(modes)")
        }
        guard let needsJSON = step["needs"]?.arrayValue else { throw fail("step '\(id)' needs a 'needs' list") }
        let needs = needsJSON.compactMap(\.stringValue)
        guard needs.count == needsJSON.count else { throw fail("step '\(id)': 'needs' must list step ids (strings)") }
        let config = step["config"] ?? [:]
        guard config.objectValue != nil else {
            throw fail("step '\(id)': 'config' must be an object, not \(config.typeName == "array" ? "an" : "a") \(config.typeName)")
        }
        if let connection = step["connection"], connection != .null, connection.stringValue == nil {
            throw fail("step '\(id)': 'connection' must be a string")
        }
        let retry = step["retry"] ?? [:]
        guard retry.objectValue != nil else { throw fail("step '\(id)': 'retry' must be an object") }
        func integer(_ key: String, default value: Int) throws(ManifestError) -> Int {
            guard let field = retry[key] else { return value }
            guard let number = field.intValue else { throw fail("step '\(id)': 'retry.\(key)' must be an integer") }
            return number
        }
        let policy = RetryPolicy(attempts: try integer("attempts", default: 1), backoffMilliseconds: try integer("backoff_ms", default: 0))
        return ManifestStep(
            id: id, component: component, mode: mode, needs: needs, connection: step["connection"]?.stringValue,
            config: config, retry: policy)
    }

    /// Refuses a manifest whose `manifest_fp` is missing or is not the hash of the rest of it.
    private static func checkFingerprint(_ json: JSONValue, path: String) throws(ManifestError) {
        var members = json.objectValue ?? [:]
        var fingerprints = members["fingerprints"]?.objectValue ?? [:]
        let recompile = "edit the pipeline's OML instead and compile it again: oml-compile FILE -o \(path == "-" ? "MANIFEST" : path)"
        guard let recorded = fingerprints.removeValue(forKey: "manifest_fp")?.stringValue else {
            throw ManifestError(path: path, message: "the manifest has no 'fingerprints.manifest_fp'; \(recompile)", exitStatus: .dataError)
        }
        members["fingerprints"] = .object(fingerprints)
        let actual = Fingerprint.sha256(canonicalJSONOf: .object(members))
        guard actual == recorded else {
            throw ManifestError(
                path: path,
                message: "'manifest_fp' does not match the manifest's content, so it was changed after oml-compile wrote it; \(recompile)",
                exitStatus: .dataError)
        }
    }

    /// Checks what running the manifest relies on, naming the step at fault: unique ids, known
    /// components whose role has the step's mode, `needs` that name other steps once and form no
    /// cycle, an `order` that lists every step once and after the steps it needs, and retry
    /// policies with at least one try and no negative wait.
    public func validate(registry: ComponentRegistry = .builtin, path: String) throws(ManifestError) {
        func fail(_ message: String) -> ManifestError { ManifestError(path: path, message: message, exitStatus: .dataError) }
        var indexes: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            if let first = indexes[step.id] {
                throw fail("step id '\(step.id)' is used twice (steps[\(first)] and steps[\(index)])")
            }
            indexes[step.id] = index
        }
        for step in steps {
            guard let spec = registry.spec(named: step.component) else {
                let hint = closestMatch(to: step.component, among: registry.names).map { "; did you mean '\($0)'?" } ?? ""
                throw fail("step '\(step.id)' uses unknown component '\(step.component)'\(hint)")
            }
            let supported = ManifestStep.Mode(spec.role)
            guard step.mode == supported else {
                throw fail("step '\(step.id)' has mode '\(step.mode.rawValue)', but component '\(step.component)' supports only '\(supported.rawValue)'")
            }
            if step.retry.attempts < 1 {
                throw fail("step '\(step.id)' has retry.attempts \(step.retry.attempts); it must be at least 1")
            }
            if step.retry.backoffMilliseconds < 0 {
                throw fail("step '\(step.id)' has retry.backoff_ms \(step.retry.backoffMilliseconds); it must not be negative")
            }
            var seen: Set<String> = []
            for need in step.needs {
                guard indexes[need] != nil else { throw fail("step '\(step.id)' needs unknown step '\(need)'") }
                guard seen.insert(need).inserted else { throw fail("step '\(step.id)' needs '\(need)' twice") }
            }
        }
        if let cycle = Self.cycle(in: steps) {
            throw fail("steps \(cycle.map { "'\($0)'" }.joined(separator: " -> ")) need each other in a cycle")
        }
        var levels: [String: Int] = [:]
        for (level, ids) in order.enumerated() {
            for id in ids {
                guard indexes[id] != nil else { throw fail("'order' names unknown step '\(id)'") }
                guard levels.updateValue(level, forKey: id) == nil else { throw fail("'order' lists step '\(id)' twice") }
            }
        }
        for step in steps {
            guard let level = levels[step.id] else { throw fail("step '\(step.id)' is missing from 'order'") }
            for need in step.needs where levels[need]! >= level {
                throw fail("'order' puts step '\(step.id)' at level \(level), not after '\(need)' (level \(levels[need]!)), which it needs")
            }
        }
    }

    /// The ids of one cycle of `needs`, first id repeated at the end, or nil when there is none.
    static func cycle(in steps: [ManifestStep]) -> [String]? {
        let needs = Dictionary(steps.map { ($0.id, $0.needs) }, uniquingKeysWith: { first, _ in first })
        // 0 unvisited, 1 on the current path, 2 done: an edge back into the path closes a cycle.
        var marks: [String: Int] = [:]
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            marks[id] = 1
            path.append(id)
            for need in needs[id] ?? [] {
                switch marks[need] ?? 0 {
                case 1:
                    let start = path.lastIndex(of: need)!
                    return Array(path[start...]) + [need]
                case 0:
                    if let cycle = visit(need) { return cycle }
                default:
                    break
                }
            }
            path.removeLast()
            marks[id] = 2
            return nil
        }
        for step in steps where (marks[step.id] ?? 0) == 0 {
            if let cycle = visit(step.id) { return cycle }
        }
        return nil
    }
}
