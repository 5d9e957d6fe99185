import OML
import Testing

/// The schema validator matches the patterns of the embedded specs by hand instead of compiling a
/// Regex at the first check of each process (bench/startup). Each hand matcher must answer as Regex
/// does, on ordinary and awkward text: line breaks, combining marks, non-ASCII letters, near misses.
struct PatternCacheTests {
    static let texts: [String] = [
        "", "@", "@pg", "@pg.", "@.shop", "@pg.shop", "@pg_1.shop-2", "@PG.Shop_9", "@pg.shop.x", "pg.shop", "@@pg.shop",
        "@pg.shop\n", "@pg.shop\r\n", "\n@pg.shop", "@pg.sh op", "@p\u{301}g.shop", "@pg.shop\u{301}", "@\u{301}pg.shop",
        "@ＰＧ.shop", "@pg.shöp", "@pg.", "@pg..shop", "a", "ab", "\t", #"\t"#, #"\"#, #"\n"#, "\n", "\r\n", "\r",
        "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "é", "e\u{301}", "🇫🇷", "👩‍👩‍👧", "a\n", "\t\n", "\n\t", "http://x",
        "https://x", "HTTP://x", "http:/x", "httpsx://", " http://x", "http://", "ftp://x", "https:/",
        "http://\u{301}", "https\u{301}://x", "abc-DEF-123", "abc_def", "-", "a b", "ab\n", "ä", ",", ";", "|",
        "\"", "\0", "a\0", "\u{7F}",
    ]

    @Test func everyEmbeddedPatternIsMatchedByHandAsRegexMatches() throws {
        var patterns: [String] = []
        for spec in ComponentRegistry.builtin.specs {
            for pattern in EmbeddedPatternTests.patterns(in: spec.configSchema) where !patterns.contains(pattern) {
                patterns.append(pattern)
            }
        }
        #expect(patterns.count == 4)
        for pattern in patterns {
            let regex = try Regex(pattern)
            for text in Self.texts {
                let expected = (try regex.firstMatch(in: text)) != nil
                #expect(PatternCache.knownMatch(pattern, text) == expected, "'\(pattern)' on \(text.debugDescription)")
            }
        }
    }

    @Test func otherPatternsAreLeftToRegex() {
        #expect(PatternCache.knownMatch("^[a-z]+$", "abc") == nil)
    }
}
