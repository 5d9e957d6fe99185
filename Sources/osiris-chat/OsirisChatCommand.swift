import ArgumentParser
import OML
import OsirisCLI
import OsirisChat
import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `osiris-chat`: from a request and a discovery snapshot to lint-clean OML (DESIGN.md §9).
struct OsirisChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osiris-chat",
        abstract: "Turn a request and a discovery snapshot into lint-clean OML.",
        discussion: """
            Reads the snapshot from --snapshot or from standard input when it is not a terminal, or \
            discovers --connection itself as osiris-discover would (same cache, same exit statuses), asks the \
            model (or the builtin planner) for a pipeline, lints and compiles every draft against the \
            snapshot, sends the findings back for at most --max-repairs new drafts, and prints only \
            lint-clean OML. The provider defaults to OSIRIS_LLM_PROVIDER, else openai when OPENAI_API_KEY \
            or OSIRIS_LLM_BASE_URL is set, else anthropic when ANTHROPIC_API_KEY (or CLAUDE_API_KEY) is \
            set, else builtin. Exit status: 0 OML written, 1 no valid OML (or a question without a \
            terminal, a request the builtin planner does not understand, or a preview that failed or was declined), 64 usage error, 65 bad \
            snapshot or session, 66 unreadable input (or a missing SQLite file or folder to discover), 69 model or \
            database unreachable, 73 output cannot be created, 75 retries ran out, 77 credentials rejected (by the \
            model or the database), 78 configuration error (such as an unknown connection alias).
            """,
        version: "osiris-chat \(osirisVersion)")

    @Option(name: .long, help: ArgumentHelp("Discovery snapshot to ground the request in (default: standard input when it is not a terminal).", valueName: "file"))
    var snapshot: String?

    @Option(name: .long, help: ArgumentHelp("With no snapshot, discover this connection first, as osiris-discover does: @family.alias, a family, or a URL (postgres://, mysql://, sqlite:PATH, file:DIR). Standard input is then not read.", valueName: "ref"))
    var connection: String?

    @OptionGroup var connections: ConnectionsOptions<ChatConnections>

    @Option(name: .long, help: ArgumentHelp("openai, anthropic or builtin (default: OSIRIS_LLM_PROVIDER, else from the keys set).", valueName: "name"))
    var provider: String?

    @Option(name: .long, help: ArgumentHelp("The model name (default: OSIRIS_LLM_MODEL).", valueName: "name"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Base URL of an OpenAI-compatible server, such as http://127.0.0.1:11434/v1 (default: OSIRIS_LLM_BASE_URL).", valueName: "url"))
    var baseURL: String?

    @Option(name: .long, help: ArgumentHelp("Ask for the pipeline as JSON following a schema generated from the registry and the snapshot: auto (where the provider supports it, off once the server rejects it), on or off.", valueName: "mode"))
    var structured: StructuredMode = .auto

    @Option(name: .long, help: ArgumentHelp("How many new drafts the lint findings of a bad draft may ask for.", valueName: "n"))
    var maxRepairs = 1

    @Option(name: .long, help: ArgumentHelp("The most tokens one reply may hold.", valueName: "n"))
    var maxTokens = 2048

    @Option(name: .long, help: ArgumentHelp("Seconds allowed to connect to the model.", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Option(name: .long, help: ArgumentHelp("Seconds allowed for one reply, the cap on a model that loops.", valueName: "seconds"))
    var replyTimeout: Double = 120

    @Option(name: .long, help: ArgumentHelp("Attempts per request on HTTP 429, 5xx and timeouts.", valueName: "n"))
    var retries = 4

    @Option(name: .long, help: ArgumentHelp("Before printing, run the pipeline on at most N rows per extract in a temporary folder (writers replaced by CSV files) and show what each writer would receive.", valueName: "n"))
    var preview: Int?

    @Option(name: .long, help: ArgumentHelp("Resume (or start) the conversation kept in .osiris/sessions/ID.jsonl.", valueName: "id"))
    var session: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the OML to this file (atomically) instead of standard output.", valueName: "file"))
    var output: String?

    @Argument(help: ArgumentHelp("The request, in plain words; asked on the terminal when missing.", valueName: "request"))
    var request: [String] = []

    func validate() throws {
        if snapshot != nil, connection != nil { throw ValidationError("give --snapshot or --connection, not both") }
        if maxRepairs < 0 { throw ValidationError("--max-repairs must be 0 or more") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be 1 or more") }
        if retries < 1 { throw ValidationError("--retries must be 1 or more") }
        if let preview, preview < 1 { throw ValidationError("--preview must be 1 or more") }
        if connectTimeout <= 0 || replyTimeout <= 0 { throw ValidationError("timeouts must be more than 0 seconds") }
    }

    func run() throws {
        try ToolRunner.run(tool: "osiris-chat") { try chat() }
    }

    private func chat() throws -> ExitStatus {
        let environment = Environment.current
        let stdinIsTerminal = InputFile.standardInputIsTerminal
        let connectionsFile = try connections.load(environment: environment)

        // The snapshot: the flag, else standard input when it is not a terminal, unless --connection
        // names what to discover (then standard input is left alone, as a script's loop may own it).
        var snapshotValue: Snapshot? = nil
        if let path = snapshot {
            snapshotValue = try Snapshot.load(path: path)
        } else if !stdinIsTerminal, connection == nil {
            let bytes = try InputFile.read("-")
            if bytes.contains(where: { $0 != 32 && $0 != 10 && $0 != 9 && $0 != 13 }) {
                snapshotValue = try Snapshot.decode(bytes, path: "-")
            }
        }

        // Questions go to the user through standard input when it is the terminal, else /dev/tty when
        // stderr is a terminal too (so someone sees them); otherwise there is nobody to ask.
        let terminal = Terminal.open(stdinIsTerminal: stdinIsTerminal)
        var text = request.joined(separator: " ").trimmed
        if text.isEmpty {
            guard let terminal, let typed = terminal.ask("request: ") else {
                throw UsageError("no request: give it as arguments, such as 'copy every table to csv'")
            }
            text = typed.trimmed
            if text.isEmpty { throw UsageError("no request") }
        }

        let settings = try ModelSettings.resolve(
            provider: provider, model: model, baseURL: baseURL, maxTokens: maxTokens, connectTimeoutSeconds: connectTimeout,
            replyTimeoutSeconds: replyTimeout, environment: environment)
        let masker = chatSecretMasker(connections: connectionsFile, environment: environment, apiKey: settings.apiKey)
        // A secret typed into the request (or an answer) goes no further: not to the model, the
        // session file or the OML's header.
        text = masker.mask(text)
        let id = session ?? SessionLog.newID()
        var history = session == nil ? [] : try SessionLog.messages(id: id)
        let log = try SessionLog(id: id, masker: masker)
        let showsProgress = FileDescriptorOutput.standardError.isTerminal
        var conversation = Conversation(
            client: settings.makeClient(retryAttempts: retries), snapshot: snapshotValue, connections: connectionsFile,
            maxRepairs: maxRepairs, session: log,
            ask: terminal.map { terminal in { question in terminal.ask("\(question)\n> ").map(masker.mask) } }, structured: structured,
            progress: { line in if showsProgress { try? FileDescriptorOutput.standardError.write("osiris-chat: \(line)\n") } })

        // In a terminal the model's text shows as it arrives (server-sent events).
        if let connection {
            conversation.discovery = ConnectionDiscovery(
                connection: connection, connections: connectionsFile, searched: connections.searched, environment: environment,
                masker: masker)
        }
        if showsProgress { conversation.stream = { text in try? FileDescriptorOutput.standardError.write(text) } }
        while true {
            let outcome = Result { () throws(ChatError) -> ConversationResult in try conversation.run(request: text, history: history) }
            if case .failure(.unansweredQuestion(let question)) = outcome {
                ToolRunner.reportError(tool: "osiris-chat", "the model asks a question and there is no terminal to answer it")
                try FileDescriptorOutput.standardError.write("\(question)\n")
                ToolRunner.reportError(tool: "osiris-chat", "answer it in the request, or run in a terminal; session \(id)", label: "note")
                return .failure
            }
            switch try outcome.get() {
            case .refused(let diagnostics, let source):
                var renderer = TextRenderer(useColor: false)
                try FileDescriptorOutput.standardError.write(renderer.render(diagnostics, source: source))
                ToolRunner.reportError(tool: "osiris-chat", "no lint-clean OML after \(maxRepairs + 1) draft\(maxRepairs == 0 ? "" : "s"); nothing written")
                ToolRunner.reportError(tool: "osiris-chat", "session \(id)", label: "note")
                return .failure
            case .oml(let oml):
                if let preview {
                    func osirisExecutable(_ environment: [String: String]) throws -> String {
                        guard let path = PipelinePreview.locateOsirisExec(environment: environment) else {
                            throw UsageError("--preview runs osiris-exec, which is neither beside osiris-chat nor on PATH")
                        }
                        return path
                    }
                    let run = PipelinePreview(
                        rows: preview, executable: try osirisExecutable(environment),
                        connectionsPath: connections.path(environment: environment))
                    for table in try run.run(oml, connections: connectionsFile) {
                        try FileDescriptorOutput.standardError.write(
                            "osiris-chat: preview: '\(table.step)' would receive:\n" + table.lines.map { "  \($0)\n" }.joined())
                    }
                    // In a terminal: accept, change the request, or quit.
                    if let terminal {
                        let answer = terminal.ask("accept, edit the request, or quit? [a/e/q] ")?.trimmed.lowercased() ?? "q"
                        if answer.hasPrefix("e"), let change = terminal.ask("request: ")?.trimmed, !change.isEmpty {
                            text = change
                            history = conversation.client == nil ? [] : try SessionLog.messages(id: id)
                            continue
                        }
                        if !answer.hasPrefix("a") { return .failure }
                    }
                }
                if let output, output != "-" {
                    try AtomicFile.write(Array(oml.utf8), to: output)
                } else {
                    try FileDescriptorOutput.standardOutput.write(oml)
                }
                if showsProgress { ToolRunner.reportError(tool: "osiris-chat", "session \(id) (continue with --session \(id))", label: "note") }
                return .success
            }
        }
    }
}

/// Where questions are asked and answered.
struct Terminal {
    let input: Int32

    /// Standard input when it is a terminal, else `/dev/tty` when stderr is a terminal, else nil.
    static func open(stdinIsTerminal: Bool) -> Terminal? {
        if stdinIsTerminal { return Terminal(input: 0) }
        guard isatty(2) == 1 else { return nil }
        let descriptor = Glibc.open("/dev/tty", O_RDONLY | O_CLOEXEC)
        return descriptor >= 0 ? Terminal(input: descriptor) : nil
    }

    /// Shows `prompt` on stderr and reads one line; nil at end of input.
    func ask(_ prompt: String) -> String? {
        try? FileDescriptorOutput.standardError.write(prompt)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(input, &byte, 1) == 1 {
            if byte == 10 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }
}

extension StructuredMode: ExpressibleByArgument {}

/// What `--connections` is for in osiris-chat.
enum ChatConnections: ConnectionsPurpose {
    static let help = "Connections file whose aliases (never values) the model is told, and lint checks against."
}

extension String {
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

@main
enum Main {
    static func main() { OsirisChatCommand.runAsTool() }
}
