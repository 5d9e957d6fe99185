import Foundation
import OML
import OsirisCore
import OsirisHTTP
import Testing

@testable import OsirisChat

/// The loop of DESIGN.md §9 against scripted replies from the in-suite server.
@Suite struct ConversationTests {
    func client(_ server: ModelServer) -> OpenAIChatClient {
        OpenAIChatClient(
            model: "scripted", baseURL: server.baseURL, apiKey: "sk-scripted", maxTokens: 500,
            poster: JSONPoster(
                transport: CurlTransport(timeouts: HTTPTimeouts(connectMilliseconds: 2000, totalMilliseconds: 10_000)),
                retry: RetryPolicy(attempts: 2, baseDelaySeconds: 0.01)))
    }

    func conversation(_ server: ModelServer, maxRepairs: Int = 1, session: SessionLog? = nil, ask: ((String) -> String?)? = nil) throws
        -> Conversation
    {
        Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: try ChatFixtures.connections(),
            maxRepairs: maxRepairs, session: session, ask: ask)
    }

    @Test func aValidFirstDraftIsReturnedWithItsHeader() throws {
        let server = try ModelServer([.openAI(ChatFixtures.fenced(ChatFixtures.goodDraft))])
        defer { server.stop() }
        let result = try conversation(server).run(request: "copy orders to csv")
        guard case .oml(let text) = result else { Issue.record("refused: \(result)"); return }
        #expect(text == """
            # Written by osiris-chat; lint-clean when written.
            # request: copy orders to csv
            # provider: openai, model: scripted
            # snapshot: @sqlite.demo sha256:d76ce8484961121e89a9d582597e6ccaa8cd8117e3a23f7631c9e42e36f1426d

            """ + ChatFixtures.goodDraft)
        #expect(server.requests.count == 1)
    }

    @Test func anInventedTableIsRepairedInOneRound() throws {
        let server = try ModelServer([
            .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.fenced(ChatFixtures.goodDraft)),
        ])
        defer { server.stop() }
        let result = try conversation(server).run(request: "copy orders to csv")
        guard case .oml(let text) = result else { Issue.record("refused: \(result)"); return }
        #expect(text.hasSuffix(ChatFixtures.goodDraft))
        #expect(server.requests.count == 2)
        // The repair request carries the whole conversation and the lint finding.
        let messages = try #require(server.requests[1].json["messages"] as? [[String: String]])
        #expect(messages.count == 4)
        #expect(messages[3]["content"]?.contains("[OML400]") == true)
        #expect(messages[3]["content"]?.contains("order_lines") == true)
    }

    @Test func aMessyFirstDraftIsCleanedUpWithoutARepair() throws {
        // Tabs for indentation, no oml_version, prose around a bare document: what small models write.
        let messy = ChatFixtures.goodDraft.replacingOccurrences(of: "oml_version: \"0.1.0\"\n", with: "")
            .replacingOccurrences(of: "    ", with: "\t\t").replacingOccurrences(of: "  - ", with: "\t- ")
        let server = try ModelServer([.openAI("Sure, here it is.\n\n" + messy + "\nThis copies orders.")])
        defer { server.stop() }
        let result = try conversation(server).run(request: "copy orders to csv")
        guard case .oml(let text) = result else { Issue.record("refused: \(result)"); return }
        #expect(text.contains("oml_version: \"0.1.0\"\nname: orders-to-csv\n"))
        #expect(server.requests.count == 1)
    }

    @Test func legacyKeysAreExplainedToTheModel() throws {
        let legacy = "version: 1\nname: orders\ntasks:\n  - id: a\n"
        let server = try ModelServer([.openAI(ChatFixtures.fenced(legacy)), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        guard case .oml = try conversation(server).run(request: "copy orders to csv") else { Issue.record("refused"); return }
        let messages = try #require(server.requests.last?.json["messages"] as? [[String: String]])
        #expect(messages.last?["content"]?.contains("[OML011]") == true)
    }

    @Test func twoBadDraftsAreRefusedWithTheLastFindings() throws {
        let server = try ModelServer([
            .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)),
        ])
        defer { server.stop() }
        let result = try conversation(server).run(request: "copy orders to csv")
        guard case .refused(let diagnostics, _) = result else { Issue.record("accepted: \(result)"); return }
        #expect(diagnostics.map(\.code) == ["OML400"])
        #expect(diagnostics.first?.range.start.line == 9)
        #expect(server.requests.count == 2)
    }

    @Test func maxRepairsZeroSendsNoFindingsBack() throws {
        let server = try ModelServer([.openAI("no yaml here, sorry"), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let result = try conversation(server, maxRepairs: 0).run(request: "copy orders to csv")
        guard case .refused(let diagnostics, _) = result else { Issue.record("accepted: \(result)"); return }
        #expect(diagnostics.map(\.code) == ["CHAT001"])
        #expect(server.requests.count == 1)
    }

    @Test func aQuestionWithoutATerminalEndsTheRun() throws {
        let server = try ModelServer([.openAI("QUESTION: Should the CSV include deleted orders?")])
        defer { server.stop() }
        let error = #expect(throws: ChatError.self) { try conversation(server).run(request: "copy orders") }
        #expect(error == .unansweredQuestion("Should the CSV include deleted orders?"))
        #expect(error?.exitStatus == .failure)
    }

    @Test func aQuestionWithATerminalIsAnsweredAndTheConversationGoesOn() throws {
        let server = try ModelServer([.openAI("QUESTION: CSV or JSON lines?"), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        var asked: [String] = []
        let result = try conversation(server, ask: { question in asked.append(question); return "CSV please" })
            .run(request: "copy orders")
        guard case .oml = result else { Issue.record("refused: \(result)"); return }
        #expect(asked == ["CSV or JSON lines?"])
        let messages = try #require(server.requests[1].json["messages"] as? [[String: String]])
        #expect(messages.last == ["role": "user", "content": "CSV please"])
    }

    @Test func theSessionRecordsStatesMaskedAndResumes() throws {
        try ChatFixtures.withTemporaryFolder { folder in
            let server = try ModelServer([
                .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.goodDraft),
                .openAI(ChatFixtures.goodDraft),
            ])
            defer { server.stop() }
            let masker = chatSecretMasker(connections: try ChatFixtures.connections(), environment: [:], apiKey: "sk-scripted")
            let directory = folder.appendingPathComponent("sessions").path
            let log = try SessionLog(id: "s1", directory: directory, masker: masker)
            _ = try conversation(server, session: log).run(request: "copy orders to csv, my password is \(ChatFixtures.plantedSecret)")
            let text = try String(contentsOfFile: directory + "/s1.jsonl", encoding: .utf8)
            #expect(!text.contains(ChatFixtures.plantedSecret))
            #expect(!text.contains("sk-scripted"))
            let states = text.split(separator: "\n").compactMap { line -> String? in
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["event"] as? String == "state" ? object?["state"] as? String : nil
            }
            #expect(states == [
                "INIT", "INTENT_CAPTURED", "DISCOVERY", "OML_SYNTHESIS", "VALIDATE_OML", "COMPILE", "REGENERATE_ONCE",
                "OML_SYNTHESIS", "VALIDATE_OML", "COMPILE", "COMPLETE",
            ])
            // Resuming sends the earlier messages first, then the change.
            let history = try SessionLog.messages(id: "s1", directory: directory)
            #expect(history.map(\.role) == ["system", "user", "assistant", "user", "assistant"])
            _ = try conversation(server, session: log).run(request: "make it upsert on id instead", history: history)
            let resumed = try #require(server.requests.last?.json["messages"] as? [[String: String]])
            #expect(resumed.count == 6)
            #expect(resumed.last?["content"] == "Change the last pipeline: make it upsert on id instead")
        }
    }
}
