import OsirisCore
import Testing

@Suite struct JSONTests {
    @Test func canonicalOutputSortsKeysAndHasNoSpace() {
        let value: JSONValue = ["b": 1, "a": ["z": true, "y": nil], "c": [1.5, "x\n\"q\""]]
        #expect(JSONWriter.canonicalString(value) == #"{"a":{"y":null,"z":true},"b":1,"c":[1.5,"x\n\"q\""]}"#)
    }

    @Test func numbersPrintTheSameWayEveryTime() {
        #expect(JSONWriter.canonicalString([1.0, 0.1, -0, 1e20, 2.5e-7, .double(.infinity)]) == "[1,0.1,0,1e+20,2.5e-07,null]")
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONWriter.canonicalString("\u{01}\t\u{7F}é") == "\"\\u0001\\t\\u007fé\"")
    }

    @Test func keysSortByUTF8Bytes() {
        let value: JSONValue = ["é": 1, "z": 2, "A": 3, "_": 4]
        #expect(JSONWriter.canonicalString(value) == #"{"A":3,"_":4,"z":2,"é":1}"#)
    }

    @Test func parseRoundTrips() throws {
        let text = #"{"a":[1,-2.5,true,false,null,"\u00e9\ud83d\ude00"],"b":{"c":"d"}}"#
        let value = try JSONParser.parse(text)
        #expect(value["a"]?.arrayValue?[0] == .int(1))
        #expect(value["a"]?.arrayValue?[5] == .string("é😀"))
        #expect(JSONWriter.canonicalString(value) == #"{"a":[1,-2.5,true,false,null,"é😀"],"b":{"c":"d"}}"#)
    }

    @Test(arguments: [
        ("{\"a\": }", 1, 7), ("[1,\n 2,\n x]", 3, 2), ("{\"a\":1,\"a\":2}", 1, 8), ("\"abc", 1, 1), ("01", 1, 1), ("[1] 2", 1, 5),
    ])
    func parseErrorsHavePositions(text: String, line: Int, column: Int) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
        do {
            _ = try JSONParser.parse(text)
        } catch {
            #expect(error.position == SourcePosition(line: line, column: column), "\(error.message)")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }
}
