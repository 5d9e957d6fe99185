import OML
import OMLCompiler
import OsirisCore

/// The states of DESIGN.md §9, as recorded in the session file.
public enum ConversationState: String, Sendable {
    /// The run started.
    case initial = "INIT"
    /// The request is known.
    case intentCaptured = "INTENT_CAPTURED"
    /// The snapshot is known: read from a file or stdin, or discovered from `--connection`.
    case discovery = "DISCOVERY"
    /// A draft is being written by the model or the planner.
    case synthesis = "OML_SYNTHESIS"
    /// The draft is being linted with the snapshot.
    case validate = "VALIDATE_OML"
    /// The findings went back to the model for a new draft.
    case regenerate = "REGENERATE_ONCE"
    /// The draft was compiled.
    case compile = "COMPILE"
    /// Lint-clean OML was produced.
    case complete = "COMPLETE"
    /// The repairs ran out without lint-clean OML.
    case refused = "REFUSED"
}

/// How a conversation ended when it did not throw.
public enum ConversationResult: Sendable {
    /// Lint-clean, compilable OML, its comment header first.
    case oml(String)
    /// No draft passed: the last draft's findings (and its text), for stderr.
    case refused(diagnostics: [Diagnostic], source: SourceText?)
}

/// One request turned into OML: drafts from the model (or the builtin planner), each linted and
/// compiled with the snapshot; findings sent back for at most `maxRepairs` new drafts; questions
/// answered through `ask` when there is a terminal, otherwise the end of the run.
public struct Conversation {
    /// The model, or nil for the builtin planner.
    public var client: (any ModelClient)?
    /// The snapshot the drafts are checked against.
    public var snapshot: Snapshot?
    /// The connection to discover at the DISCOVERY state when `snapshot` is nil.
    public var discovery: ConnectionDiscovery? = nil
    /// The connections file, for aliases (never values) and lint.
    public var connections: ConnectionsFile?
    /// How many new drafts the findings of a bad one may ask for.
    public var maxRepairs: Int
    /// Where events go.
    public var session: SessionLog?
    /// Asks the user a question and returns the answer; nil without a terminal.
    public var ask: ((String) -> String?)?
    /// Shows a state change to the user (stderr, in a terminal).
    public var progress: (String) -> Void
    /// The most questions answered in one run.
    public var maximumQuestions = 3
    /// Whether drafts are asked for as schema-constrained JSON.
    public var structured: StructuredMode = .off
    /// Where the model's text goes as it arrives (stderr, in a terminal); nil to ask for whole replies.
    public var stream: ((String) -> Void)? = nil

    /// Creates a conversation.
    public init(
        client: (any ModelClient)?, snapshot: Snapshot?, connections: ConnectionsFile?, maxRepairs: Int = 1,
        session: SessionLog?, ask: ((String) -> String?)?, structured: StructuredMode = .off,
        progress: @escaping (String) -> Void = { _ in }
    ) {
        self.structured = structured
        self.client = client
        self.snapshot = snapshot
        self.connections = connections
        self.maxRepairs = maxRepairs
        self.session = session
        self.ask = ask
        self.progress = progress
    }

    /// The name under which drafts are linted.
    static let draftName = "draft.oml"

    /// Runs the conversation for `request`, continuing `history` (a resumed session's messages).
    public func run(request: String, history: [ChatMessage] = []) throws(ChatError) -> ConversationResult {
        enter(.initial)
        session?.record("request", ["text": .string(request)])
        enter(.intentCaptured)
        var grounded = self
        if snapshot == nil, let discovery {
            enter(.discovery)
            let (discovered, fromCache) = try discovery.run()
            grounded.snapshot = discovered
            session?.record("discovery", ["connection": .string(discovered.connectionName), "from_cache": .bool(fromCache)])
            progress("discovering \(discovered.connectionName) (\(Self.count(discovered.tables.count, "table")))")
        } else if let snapshot {
            enter(.discovery)
            progress("snapshot of \(snapshot.connectionName) (\(Self.count(snapshot.tables.count, "table")))")
        }
        if let snapshot = grounded.snapshot {
            session?.record("snapshot", [
                "connection": .string(snapshot.connectionName), "tables": .int(snapshot.tables.count),
                "fingerprint": snapshot.fingerprint.map(JSONValue.string) ?? .null,
            ])
        }
        return try grounded.draft(request: request, history: history)
    }

    /// "1 table", "3 tables".
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// From the snapshot on: drafts, lint, repairs and questions.
    private func draft(request: String, history: [ChatMessage]) throws(ChatError) -> ConversationResult {
        guard let client else { return try planWithoutModel(request) }

        // auto: on where the provider supports it, and off for the rest of the run once the server rejects it.
        var schema: JSONValue? = nil
        switch structured {
        case .off: break
        case .auto: if client.supportsStructuredOutput { schema = PipelineSchema.make(snapshot: snapshot, connections: connections) }
        case .on:
            guard client.supportsStructuredOutput else {
                throw .modelNotConfigured("--structured on needs an OpenAI-compatible server; \(client.provider) takes no response schema")
            }
            schema = PipelineSchema.make(snapshot: snapshot, connections: connections)
        }
        let prompt = PromptBuilder(connections: connections, snapshot: snapshot)
        var messages = history
        if messages.isEmpty {
            messages.append(say(ChatMessage(role: "system", content: prompt.systemMessage(structured: schema != nil))))
            messages.append(say(ChatMessage(role: "user", content: prompt.userMessage(request: request))))
        } else {
            messages.append(say(ChatMessage(role: "user", content: "Change the last pipeline: \(request)")))
        }
        var repairs = 0
        var questions = 0
        while true {
            enter(.synthesis)
            progress("drafting (\(client.provider), \(client.model))")
            let reply: String
            do {
                reply = try client.reply(to: messages, schema: schema, stream: stream)
            } catch let refusal where schema != nil && structured == .auto && refusal.refusesRequestForm {
                guard case .requestRejected(_, let status, let message) = refusal else { throw refusal }
                session?.record("structured_output", ["rejected": .string("HTTP \(status) \(message)")])
                progress("the server refuses a response schema (HTTP \(status)); asking without one")
                schema = nil
                reply = try client.reply(to: messages, schema: nil, stream: stream)
            }
            if let stream, !reply.hasSuffix("\n") { stream("\n") }
            messages.append(say(ChatMessage(role: "assistant", content: reply)))
            let feedback: String
            let diagnostics: [Diagnostic]
            let source: SourceText?
            switch ReplyExtractor.extract(reply) {
            case .question(let question):
                guard let ask, questions < maximumQuestions, let answer = ask(question) else {
                    session?.record("question", ["text": .string(question), "answered": false])
                    throw .unansweredQuestion(question)
                }
                questions += 1
                messages.append(say(ChatMessage(role: "user", content: answer)))
                continue
            case .nothing:
                let finding = Diagnostic(
                    code: "CHAT001", severity: .error, message: "the reply holds no OML document", file: Self.draftName,
                    range: SourceRange(start: SourcePosition(line: 1, column: 1)))
                diagnostics = [finding]
                source = nil
                feedback = "Your reply held no OML document. Answer with \(schema == nil ? "one complete OML document in a ```yaml fence" : "the complete pipeline as one JSON object")."
            case .draft(let text):
                let check = validate(text)
                if check.errors.isEmpty {
                    enter(.complete)
                    session?.record("oml", ["text": .string(text)])
                    progress("ok")
                    return .oml(header(request: request, client: client) + text)
                }
                diagnostics = check.errors
                source = check.source
                var renderer = TextRenderer(useColor: false)
                let rendered = String(decoding: renderer.render(diagnostics, source: source), as: UTF8.self)
                feedback = "oml-lint rejected the pipeline:\n\(rendered)\nAnswer with the whole corrected \(schema == nil ? "OML document in a ```yaml fence" : "pipeline as one JSON object")."
            }
            session?.record("lint", [
                "errors": .int(diagnostics.count),
                "messages": .array(diagnostics.map { .string("\($0.file):\($0.range.start.line): \($0.message) [\($0.code)]") }),
            ])
            guard repairs < maxRepairs else {
                enter(.refused)
                return .refused(diagnostics: diagnostics, source: source)
            }
            repairs += 1
            progress("lint: \(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s"), repairing")
            enter(.regenerate)
            messages.append(say(ChatMessage(role: "user", content: feedback)))
        }
    }

    /// The builtin planner's path: plan, then the same checks as a model's draft.
    func planWithoutModel(_ request: String) throws(ChatError) -> ConversationResult {
        enter(.synthesis)
        let text = try BuiltinPlanner(snapshot: snapshot).plan(request)
        let check = validate(text)
        guard check.errors.isEmpty else {
            enter(.refused)
            return .refused(diagnostics: check.errors, source: check.source)
        }
        enter(.complete)
        session?.record("oml", ["text": .string(text)])
        return .oml(header(request: request, client: nil) + text)
    }

    /// Lints and compiles `text` with the snapshot and connections: its errors, none when it compiles.
    func validate(_ text: String) -> (errors: [Diagnostic], source: SourceText?) {
        enter(.validate)
        let options = CompileOptions(connections: connections, snapshot: snapshot)
        do {
            let result = try Compiler().compile(Array(text.utf8), file: Self.draftName, options: options)
            enter(.compile)
            let errors = result.diagnostics.filter { $0.severity == .error }
            if errors.isEmpty, result.manifest == nil {
                return ([Diagnostic(code: "CHAT002", severity: .error, message: "the pipeline does not compile", file: Self.draftName,
                                    range: SourceRange(start: SourcePosition(line: 1, column: 1)))], result.source)
            }
            return (errors, result.source)
        } catch {
            return ([Diagnostic(code: "OML308", severity: .error, message: error.description, file: Self.draftName,
                                range: SourceRange(start: SourcePosition(line: 1, column: 1)))], SourceText(bytes: Array(text.utf8)))
        }
    }

    /// The comment header recording the request, provider, model and snapshot fingerprint.
    func header(request: String, client: (any ModelClient)?) -> String {
        let oneLine = request.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        var text = "# Written by osiris-chat; lint-clean when written.\n"
        text += "# request: \(oneLine)\n"
        text += "# provider: \(client?.provider ?? "builtin"), model: \(client?.model ?? "builtin")\n"
        if let snapshot {
            text += "# snapshot: \(snapshot.connection) \(snapshot.fingerprint ?? "(no fingerprint)")\n"
        } else {
            text += "# snapshot: none\n"
        }
        return text
    }

    private func enter(_ state: ConversationState) {
        session?.record("state", ["state": .string(state.rawValue)])
    }

    private func say(_ message: ChatMessage) -> ChatMessage {
        session?.record("message", ["role": .string(message.role), "content": .string(message.content)])
        return message
    }
}

/// The masker of a chat run: the API key and every secret-named value of the connections file,
/// `${VAR}` references resolved from the environment, so neither reaches the session file.
public func chatSecretMasker(connections: ConnectionsFile?, environment: [String: String], apiKey: String?) -> SecretMasker {
    let masker = SecretMasker()
    if let apiKey { masker.register(apiKey) }
    for entry in connections?.entries ?? [] {
        for field in entry.fields {
            guard let value = field.value.stringValue else { continue }
            let secret = SecretNames.contains(field.name)
            var rest = Substring(value)
            // Every ${VAR} of any field is resolved and registered when the field is secret-named.
            while let start = rest.firstRange(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
                let name = String(rest[start.upperBound..<end])
                if secret, let resolved = environment[name] { masker.register(resolved) }
                rest = rest[rest.index(after: end)...]
            }
            if secret, !value.contains("${") { masker.register(value) }
        }
    }
    return masker
}
