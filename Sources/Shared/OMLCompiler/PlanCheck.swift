import OML
import OsirisCore
import OsirisYAML

/// A document that lint passed but that the compiler cannot turn into a manifest: the findings of
/// the compiler's own checks. `oml-compile` prints them and exits 1, like lint errors.
struct PlanRejection: Error {
    /// What is wrong, in position order.
    let diagnostics: [Diagnostic]
}

/// One step as the compiler checked it: its id and its component's spec.
struct CheckedStep {
    /// The step as written.
    let step: OMLStep
    /// Its id.
    let id: String
    /// Its component's spec.
    let spec: ComponentSpec
}

/// What the compiler relies on, checked on the document itself rather than taken from lint, whose
/// findings a comment or a bug could hide: any problem becomes a diagnostic with the code of the
/// lint rule that finds it, never a trap.
struct PlanCheck {
    private let file: String
    private let registry: ComponentRegistry
    private var problems: [Diagnostic] = []

    /// A check of one file's document.
    init(file: String, registry: ComponentRegistry) {
        self.file = file
        self.registry = registry
    }

    private mutating func reject(_ code: String, at node: YAMLNode, _ message: String) {
        problems.append(Diagnostic(
            code: code, severity: .error, message: message, file: file, range: node.range,
            help: "oml-compile checks this whatever lint comments say; fix the document"))
    }

    private func finish() throws(PlanRejection) {
        guard problems.isEmpty else { throw PlanRejection(diagnostics: problems.sorted(by: Diagnostic.byPosition)) }
    }

    /// The steps with their ids and specs, once the document's shape, ids, components, modes and
    /// `needs` hold; else the rejection.
    mutating func steps(of document: OMLDocument) throws(PlanRejection) -> [CheckedStep] {
        let root = document.root
        for key in ["oml_version", "name", "steps"] where document.entry(key) == nil {
            reject("OML010", at: root.mapping?.first?.key ?? root, "the document has no '\(key)'")
        }
        if let node = document.entry("oml_version")?.value, node.string == nil {
            reject("OML013", at: node, "oml_version must be a string")
        }
        if let name = document.entry("name")?.value, name.string.map({ !$0.allSatisfy(\.isWhitespace) }) != true {
            reject("OML014", at: name, "the pipeline needs a non-blank string 'name'")
        }
        if let node = document.entry("description")?.value, node.string == nil, node.scalar?.value != .null {
            reject("OML016", at: node, "description must be a string")
        }
        if let node = document.entry("metadata")?.value, node.mapping == nil, node.scalar?.value != .null {
            reject("OML016", at: node, "metadata must be a mapping")
        }
        if let stepList = document.entry("steps")?.value, stepList.sequence?.isEmpty != false {
            reject("OML020", at: stepList, "steps must be a non-empty list")
        }

        var checked: [CheckedStep] = []
        for step in document.steps {
            guard step.node.mapping != nil else {
                reject("OML100", at: step.node, "step \(step.displayName) is not a mapping")
                continue
            }
            guard let id = step.id, step.idNode?.scalar != nil else {
                reject("OML101", at: step.anchorNode, "step \(step.displayName) has no 'id'")
                continue
            }
            if let first = document.stepsByID[id], first !== step {
                reject("OML102", at: step.anchorNode, "step id '\(id)' is used twice")
            }
            checkNeeds(of: step, in: document)
            guard let component = step.component, let spec = registry.spec(named: component) else {
                reject("OML200", at: step.componentNode ?? step.anchorNode, "step \(step.displayName) has no known component")
                continue
            }
            if let mode = step.mode, step.modeNode?.scalar != nil {
                if !ComponentRole.allCases.contains(where: { $0.stepMode == mode }) {
                    reject("OML106", at: step.modeNode ?? step.anchorNode, "mode '\(mode)' is not read, write or transform")
                } else if !spec.stepModes.contains(mode) {
                    reject("OML107", at: step.modeNode ?? step.anchorNode, "component '\(spec.name)' does not support mode '\(mode)'")
                }
            } else {
                reject("OML101", at: step.modeNode ?? step.anchorNode, "step \(step.displayName) has no 'mode'")
            }
            checked.append(CheckedStep(step: step, id: id, spec: spec))
        }
        try finish()
        // Every step that was left out was rejected above; the graph is indexed by document position.
        guard checked.count == document.steps.count else {
            reject("OML100", at: root, "the steps could not be read")
            try finish()
            return []
        }
        return checked
    }

    private mutating func checkNeeds(of step: OMLStep, in document: OMLDocument) {
        guard let value = step.needsPair?.value else { return }
        let entries = value.sequence ?? (value.scalar != nil ? [value] : [])
        if value.sequence == nil, value.scalar == nil {
            reject("OML104", at: value, "needs must be a list of step ids")
        }
        for entry in entries {
            guard let name = entry.scalar?.text, entry.scalar?.value != .null else {
                reject("OML104", at: entry, "needs entries must be step ids")
                continue
            }
            if document.stepsByID[name] == nil { reject("OML104", at: entry, "needs names unknown step '\(name)'") }
        }
    }

    /// Checks the data flow: no cycle, one input per writer, at least one per processor.
    mutating func check(_ graph: StepGraph, steps: [CheckedStep]) throws(PlanRejection) {
        for (stepIndex, entryIndex) in graph.cycleEntries.map({ ($0[0], $0[1]) }) {
            let step = steps[stepIndex].step
            let node = step.needsPair?.value.sequence?[entryIndex] ?? step.needsPair?.value ?? step.anchorNode
            reject("OML105", at: node, "needs of step '\(steps[stepIndex].id)' form a dependency cycle")
        }
        for checked in steps {
            let count = graph.inputs[checked.step.index].count
            switch checked.spec.role {
            case .extractor: break
            case .writer where count != 1:
                reject(count == 0 ? "OML109" : "OML111", at: checked.step.anchorNode,
                       "writer step '\(checked.id)' has \(count) inputs; a writer takes exactly one")
            case .processor where count == 0:
                reject("OML109", at: checked.step.anchorNode, "processor step '\(checked.id)' has no input")
            default: break
            }
        }
        try finish()
    }

    /// Checks a step's config and retry after params are substituted: a mapping, every required key,
    /// every value of its type, no conflicting keys, a key for upserts, no secret, no unresolved param.
    mutating func check(config: [String: JSONValue], retry: JSONValue?, of checked: CheckedStep, params: [String: JSONValue]) {
        let step = checked.step
        let spec = checked.spec
        if let node = step.config, node.mapping == nil, node.scalar?.value != .null {
            reject("OML203", at: node, "config of step '\(checked.id)' must be a mapping")
            return
        }
        let configNode = step.config ?? step.anchorNode
        if step.config?.mapping == nil {
            if !spec.configSchema.required.isEmpty || !spec.configSchema.exclusiveRequired.isEmpty {
                reject("OML202", at: step.anchorNode, "step '\(checked.id)' has no config; '\(spec.name)' requires some")
            }
        } else if let node = step.config {
            let skipped: Set<String> = spec.configSchema.properties["connection"] != nil ? ["connection"] : []
            let validator = SchemaValidator(skippedKeys: skipped) { text in ParamReference.whole(text).flatMap { params[$0] } }
            for violation in validator.validate(node, against: spec.configSchema) {
                let at = violation.path.isEmpty ? "config" : "config '\(violation.path)'"
                switch violation.kind {
                case .unknownKey: continue  // OML201 is suppressible: the driver ignores such a key.
                case .missing(let keys): reject("OML202", at: violation.node, "config of step '\(checked.id)' lacks \(quotedList(keys))")
                case .conflicting(let first, let second):
                    reject("OML204", at: violation.node, "config keys '\(first)' and '\(second)' of step '\(checked.id)' conflict")
                default: reject("OML203", at: violation.node, "\(at) of step '\(checked.id)' does not fit the schema of '\(spec.name)'")
                }
            }
            for (legacy, canonical) in spec.aliases.sorted(by: { $0.key < $1.key })
            where node[legacy] != nil && node[canonical] != nil {
                reject("OML204", at: node, "config keys '\(legacy)' and '\(canonical)' of step '\(checked.id)' mean the same")
            }
        }
        if spec.role == .writer, config["write_mode"]?.stringValue == "upsert" {
            let hasKey = switch config["primary_key"] {
            case .string(let key)?: !key.isEmpty
            case .array(let keys)?: !keys.isEmpty
            default: false
            }
            if !hasKey { reject("OML205", at: configNode, "upsert in step '\(checked.id)' needs 'primary_key'") }
        }
        if let key = Self.secretKey(in: .object(config), spec: spec, topLevel: true) {
            reject("OML305", at: configNode, "config '\(key)' of step '\(checked.id)' holds a secret; secrets never appear in OML")
        }
        for name in Self.unresolvedParams(in: .object(config)) + Self.unresolvedParams(in: retry ?? .null) {
            reject("OML307", at: configNode, "step '\(checked.id)' refers to undeclared param '\(name)'")
        }
        if let retry {
            let attempts = retry["attempts"], backoff = retry["backoff_ms"]
            let valid = retry.objectValue != nil
                && (attempts == nil || (attempts?.intValue).map { $0 >= 1 } == true)
                && (backoff == nil || (backoff?.intValue).map { $0 >= 0 } == true)
                && (retry.objectValue?.keys.allSatisfy { ["attempts", "backoff_ms"].contains($0) } ?? false)
            if !valid {
                reject("OML112", at: step.retryPair?.value ?? step.anchorNode,
                       "retry of step '\(checked.id)' must be {attempts: integer >= 1, backoff_ms: integer >= 0}")
            }
        }
    }

    /// Ends the config checks of every step.
    func finishConfig() throws(PlanRejection) { try finish() }

    /// The first key under `value` whose name marks a secret and that holds a value.
    private static func secretKey(in value: JSONValue, spec: ComponentSpec, topLevel: Bool) -> String? {
        switch value {
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if SecretNames.contains(key) || (topLevel && spec.secretKeys.contains(key)) {
                    switch member {
                    case .null: continue
                    case .string(let text) where text.isEmpty: continue
                    default: return key
                    }
                }
                if let found = secretKey(in: member, spec: spec, topLevel: false) { return found }
            }
            return nil
        case .array(let items):
            return items.lazy.compactMap { secretKey(in: $0, spec: spec, topLevel: false) }.first
        default:
            return nil
        }
    }

    /// Names of `${params.NAME}` references left after substitution: params nobody declared.
    private static func unresolvedParams(in value: JSONValue) -> [String] {
        switch value {
        case .string(let text): ParamReference.all(in: text).map(\.name)
        case .array(let items): items.flatMap(unresolvedParams(in:))
        case .object(let members): members.keys.sorted().flatMap { unresolvedParams(in: members[$0] ?? .null) }
        default: []
        }
    }
}
