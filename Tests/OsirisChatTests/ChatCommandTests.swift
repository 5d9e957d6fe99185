import Foundation
import PseudoTerminal
import Testing

/// The osiris-chat binary against the in-suite server: what reaches stdout, stderr, the exit status
/// and the request bodies.
@Suite struct ChatCommandTests {
    func snapshot() throws -> Data { try ChatFixtures.snapshotBytes() }

    /// Runs osiris-chat in a fresh folder holding the planted connections file.
    func chat(_ arguments: [String], server: ModelServer?, environment: [String: String] = [:], stdin: Data? = nil) throws
        -> (ChatTool.Run, sessions: [String])
    {
        try ChatFixtures.withTemporaryFolder { folder in
            try ChatFixtures.connectionsText.write(to: folder.appendingPathComponent("osiris_connections.yaml"), atomically: true, encoding: .utf8)
            let base = server.map { ["--base-url", $0.baseURL, "--model", "scripted", "--connect-timeout", "2", "--reply-timeout", "10"] } ?? []
            let run = try ChatTool.run(base + arguments, in: folder, stdin: try stdin ?? snapshot(), environment: environment)
            let sessionFolder = folder.appendingPathComponent(".osiris/sessions")
            let sessions = ((try? FileManager.default.contentsOfDirectory(atPath: sessionFolder.path)) ?? []).map {
                (try? String(contentsOf: sessionFolder.appendingPathComponent($0), encoding: .utf8)) ?? ""
            }
            return (run, sessions)
        }
    }

    @Test func aValidFirstDraftGoesToStdoutWithItsHeader() throws {
        let server = try ModelServer([.openAI(ChatFixtures.fenced(ChatFixtures.goodDraft))])
        defer { server.stop() }
        let (run, _) = try chat(["copy orders to csv"], server: server)
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("# Written by osiris-chat; lint-clean when written.\n# request: copy orders to csv\n# provider: openai, model: scripted\n"))
        #expect(run.stdout.hasSuffix(ChatFixtures.goodDraft))
    }

    @Test func aDraftNamingAnUnknownTableIsRepairedInOneRound() throws {
        let server = try ModelServer([
            .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.fenced(ChatFixtures.goodDraft)),
        ])
        defer { server.stop() }
        let (run, _) = try chat(["copy orders to csv"], server: server)
        #expect(run.status == 0)
        #expect(run.stdout.hasSuffix(ChatFixtures.goodDraft))
        #expect(server.requests.count == 2)
    }

    @Test func twoBadDraftsExitOneWithNothingOnStdout() throws {
        let server = try ModelServer([
            .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)),
        ])
        defer { server.stop() }
        let (run, _) = try chat(["copy orders to csv"], server: server)
        #expect(run.status == 1)
        #expect(run.stdout == "")
        #expect(run.stderr.contains("draft.oml:9:14: error: table 'order_lines' is not in the snapshot of @sqlite.demo [OML400]"))
        #expect(run.stderr.contains("no lint-clean OML after 2 drafts; nothing written"))
    }

    @Test func aQuestionWithoutATerminalExitsOneWithTheQuestion() throws {
        let server = try ModelServer([.openAI("QUESTION: Which of the 3 tables do you mean?")])
        defer { server.stop() }
        let (run, _) = try chat(["copy the table"], server: server)
        #expect(run.status == 1)
        #expect(run.stdout == "")
        #expect(run.stderr.contains("\nWhich of the 3 tables do you mean?\n"))
    }

    @Test func tooManyRequestsThenSuccess() throws {
        let server = try ModelServer([.status(429, retryAfter: "0"), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let (run, _) = try chat(["copy orders to csv"], server: server)
        #expect(run.status == 0)
        #expect(server.requests.count == 2)
    }

    @Test func unauthorizedExitsSeventySeven() throws {
        let server = try ModelServer([.status(401)])
        defer { server.stop() }
        let (run, _) = try chat(["copy orders to csv"], server: server, environment: ["OPENAI_API_KEY": "sk-wrong"])
        #expect(run.status == 77)
        #expect(run.stdout == "")
        #expect(run.stderr.contains("rejected the credentials (HTTP 401)"))
    }

    @Test func retriesRunningOutExitSeventyFive() throws {
        let server = try ModelServer([.status(503, retryAfter: "0"), .status(503, retryAfter: "0")])
        defer { server.stop() }
        let (run, _) = try chat(["--retries", "2", "copy orders to csv"], server: server)
        #expect(run.status == 75)
    }

    @Test func requestBodiesCarryTheTablesAndNeverAPlantedSecret() throws {
        let server = try ModelServer([.openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let (run, sessions) = try chat(["copy orders to csv"], server: server, environment: ["OPENAI_API_KEY": "sk-never-logged"])
        #expect(run.status == 0)
        #expect(server.requests.count == 2)
        for request in server.requests {
            #expect(request.body.contains("customers, orders, products"))
            #expect(request.body.contains("@pg.warehouse"))
            #expect(!request.body.contains(ChatFixtures.plantedSecret))
            #expect(request.headers["authorization"] == "Bearer sk-never-logged")
        }
        #expect(sessions.count == 1)
        #expect(sessions.first?.contains("OML400") == true)
        #expect(sessions.first?.contains(ChatFixtures.plantedSecret) == false)
        #expect(sessions.first?.contains("sk-never-logged") == false)
    }

    /// Secret canaries on chat's error paths (issue 13): the API key and the connections file's planted
    /// password appear in no output, session file or request body when the server rejects the key,
    /// keeps failing, or is gone.
    @Test(arguments: ["401", "503", "gone"])
    func errorPathsLeakNoSecret(path: String) throws {
        let apiKey = "sk-canary-Qz81-never-shown"
        let server = try ModelServer(path == "401" ? [.status(401)] : [.status(503, retryAfter: "0"), .status(503, retryAfter: "0")])
        if path == "gone" { server.stop() }
        defer { if path != "gone" { server.stop() } }
        let (run, sessions) = try chat(
            ["--retries", "2", "copy orders to csv, the password is \(ChatFixtures.plantedSecret)"], server: server,
            environment: ["OPENAI_API_KEY": apiKey])
        #expect(run.status == (path == "401" ? 77 : path == "503" ? 75 : 69), "\(run.stderr)")
        for text in [run.stdout, run.stderr] + sessions + server.requests.map(\.body) {
            #expect(!text.contains(apiKey))
            #expect(!text.contains(ChatFixtures.plantedSecret))
        }
    }

    @Test func anthropicThroughTheBaseURL() throws {
        let server = try ModelServer([.anthropic(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let (run, _) = try chat(
            ["--provider", "anthropic", "copy orders to csv"], server: server, environment: ["ANTHROPIC_API_KEY": "ak-test"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("# provider: anthropic, model: scripted\n"))
        #expect(server.requests.first?.path == "/v1/messages")
    }

    @Test func anUnreachableModelExitsSixtyNine() throws {
        let server = try ModelServer([])
        server.stop()
        let (run, _) = try chat(["copy orders to csv"], server: server)
        #expect(run.status == 69)
    }

    @Test func noKeyNoBaseURLSaysHowToSetOne() throws {
        let (run, _) = try chat(["--provider", "openai", "copy orders to csv"], server: nil)
        #expect(run.status == 78)
        #expect(run.stderr.contains("OPENAI_API_KEY"))
        #expect(run.stderr.contains("--provider builtin"))
    }

    @Test func builtinIsTheDefaultAndSaysWhenAModelIsNeeded() throws {
        let (plan, _) = try chat(["export", "orders", "to", "jsonl"], server: nil)
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("# provider: builtin, model: builtin\n"))
        let (refused, _) = try chat(["sum revenue by country"], server: nil)
        #expect(refused.status == 1)
        #expect(refused.stdout == "")
        #expect(refused.stderr.contains("a model is needed"))
    }

    @Test func outputFileIsWrittenAndStdoutStaysEmpty() throws {
        try ChatFixtures.withTemporaryFolder { folder in
            let target = folder.appendingPathComponent("p.oml").path
            let (run, _) = try chat(["-o", target, "copy all tables to csv"], server: nil)
            #expect(run.status == 0)
            #expect(run.stdout == "")
            #expect(try String(contentsOfFile: target, encoding: .utf8).contains("name: shop-to-csv\n"))
        }
    }

    @Test func aSnapshotThatDoesNotDecodeExitsSixtyFive() throws {
        let (run, _) = try chat(["copy all tables to csv"], server: nil, stdin: Data("{\"tables\": []}".utf8))
        #expect(run.status == 65)
    }
}

/// `--session ID` across two runs of the binary.
@Suite struct ChatSessionCommandTests {
    @Test func aSecondRunWithTheSameSessionSendsTheEarlierConversation() throws {
        let server = try ModelServer([.openAI(ChatFixtures.goodDraft), .openAI(ChatFixtures.goodDraft.replacingOccurrences(
            of: "path: out/orders.csv", with: "path: out/orders-all.csv"))])
        defer { server.stop() }
        try ChatFixtures.withTemporaryFolder { folder in
            let snapshot = try ChatFixtures.snapshotBytes()
            let base = ["--base-url", server.baseURL, "--structured", "off", "--session", "shop-1"]
            let first = try ChatTool.run(base + ["copy orders to csv"], in: folder, stdin: snapshot)
            #expect(first.status == 0)
            let second = try ChatTool.run(base + ["name the file orders-all.csv"], in: folder, stdin: snapshot)
            #expect(second.status == 0)
            #expect(second.stdout.contains("path: out/orders-all.csv"))
            let messages = try #require(server.requests.last?.json["messages"] as? [[String: String]])
            #expect(messages.map { $0["role"] ?? "" } == ["system", "user", "assistant", "user"])
            #expect(messages.last?["content"] == "Change the last pipeline: name the file orders-all.csv")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".osiris/sessions/shop-1.jsonl").path))
        }
    }
}

/// A clarifying question in a terminal, through a pseudo-terminal made by script(1).
@Suite struct ChatTerminalTests {
    /// Runs `command` in a pseudo-terminal, types `answer` once `prompt` shows; what the terminal showed and the status.
    func inTerminal(_ command: String, in folder: URL, answer: String, after prompt: String) throws -> (shown: String, status: Int32) {
        let session = try PseudoTerminal.run(command, in: folder, typing: "\(answer)\n", after: prompt, timeout: 20)
        #expect(session.prompted)
        return (session.shown, session.status)
    }

    /// In a terminal replies are streamed, so the server answers with event streams.
    func server() throws -> ModelServer {
        try ModelServer([.openAIStream(["QUESTION: Which table", " do you mean?"]), .openAIStream([ChatFixtures.goodDraft])])
    }

    @Test func aQuestionInATerminalIsAskedAndTheAnswerSent() throws {
        let server = try server()
        defer { server.stop() }
        try ChatFixtures.withTemporaryFolder { folder in
            let snapshot = try ChatFixtures.writeSnapshot(in: folder)
            let chat = "'\(ChatTool.binary.path)' --base-url \(server.baseURL) --structured off --snapshot '\(snapshot)' 'copy the table to csv'"
            let (shown, status) = try inTerminal(chat, in: folder, answer: "the orders table", after: "Which table do you mean?")
            #expect(status == 0, "\(shown)")
            #expect(shown.contains("Which table do you mean?\r\n> "))
            #expect(shown.contains("name: orders-to-csv"))
            let messages = try #require(server.requests.last?.json["messages"] as? [[String: String]])
            #expect(messages.last == ["role": "user", "content": "the orders table"])
        }
    }

    @Test func withTheSnapshotOnStdinTheQuestionGoesThroughDevTTY() throws {
        let server = try server()
        defer { server.stop() }
        try ChatFixtures.withTemporaryFolder { folder in
            let snapshot = try ChatFixtures.writeSnapshot(in: folder)
            let chat = "cat '\(snapshot)' | '\(ChatTool.binary.path)' --base-url \(server.baseURL) 'copy the table to csv' > p.oml"
            let (shown, status) = try inTerminal(chat, in: folder, answer: "orders", after: "Which table do you mean?")
            #expect(status == 0, "\(shown)")
            #expect(try String(contentsOf: folder.appendingPathComponent("p.oml"), encoding: .utf8).hasSuffix(ChatFixtures.goodDraft))
            let messages = try #require(server.requests.last?.json["messages"] as? [[String: String]])
            #expect(messages.last == ["role": "user", "content": "orders"])
        }
    }
}
