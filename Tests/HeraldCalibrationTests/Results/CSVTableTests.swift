import Testing

import HeraldCalibration
import HeraldSimulation

@Suite struct CSVTableTests {
    @Test func headerAndRowsWithCRLF() throws {
        var table = CSVTable(columns: ["bias_uA", "counts_per_s", "state"])
        try table.append([.number(12.5), .integer(48_211), .text("ok")])
        try table.append([.number(13), .integer(-3), .missing])
        #expect(table.render() == "bias_uA,counts_per_s,state\r\n12.5,48211,ok\r\n13.0,-3,\r\n")
        #expect(table.rows == [["12.5", "48211", "ok"], ["13.0", "-3", ""]])
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("\"", "\"\"\"\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("carriage\rreturn", "\"carriage\rreturn\""),
        ("crlf\r\ninside", "\"crlf\r\ninside\""),
        ("", ""),
        (" spaces kept ", " spaces kept "),
        ("semi;colon", "semi;colon"),
    ])
    func quoting(field: String, written: String) throws {
        var table = CSVTable(columns: ["note", "n"])
        try table.append([.text(field), .integer(1)])
        #expect(table.render() == "note,n\r\n\(written),1\r\n")
    }

    @Test func headerIsQuotedToo() {
        let table = CSVTable(columns: ["time, s", "visibility \"V\""])
        #expect(table.render() == "\"time, s\",\"visibility \"\"V\"\"\"\r\n")
    }

    @Test func loneEmptyFieldKeepsItsRow() throws {
        var table = CSVTable(columns: ["note"])
        try table.append([.missing])
        #expect(table.render() == "note\r\n\"\"\r\n")
    }

    @Test func wrongColumnCountNamesCountsAndRow() throws {
        var table = CSVTable(columns: ["time_s", "visibility", "error"])
        try table.append([.number(0), .number(0.98), .number(0.002)])
        do {
            try table.append([.number(1), .number(0.97)])
            Issue.record("a short row was accepted")
        } catch {
            #expect(error == .wrongValueCount(expected: 3, given: 2, row: 2))
            let message = error.description
            #expect(message.contains("row 2"))
            #expect(message.contains("expected 3"))
            #expect(message.contains("given 2"))
        }
        // The refused row left the table as it was.
        #expect(table.rows.count == 1)
        #expect(throws: CSVTable.Error.wrongValueCount(expected: 3, given: 4, row: 2)) {
            try table.append([.number(1), .number(0.97), .number(0.1), .missing])
        }
    }

    @Test func numbersRoundTripThroughDouble() throws {
        var generator = CounterRandom(RandomKey(seed: 7, component: ComponentID("test:csv"), slice: 0))
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.2 + 0.1, 1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 123_456_789.123,
            1e16, 1e-5, .pi, 0.98,
        ]
        for _ in 0..<2000 {
            values.append(Double(bitPattern: generator.next()))
        }
        let finite = values.filter(\.isFinite)
        var table = CSVTable(columns: ["value"])
        for value in finite { try table.append([.number(value)]) }
        for (row, value) in zip(table.rows, finite) {
            let parsed = Double(row[0])
            #expect(parsed?.bitPattern == value.bitPattern, "\(row[0])")
        }
    }

    @Test func nonFiniteNumbersAreEmptyFields() throws {
        var table = CSVTable(columns: ["a", "b", "c", "d"])
        try table.append([.number(.nan), .number(.infinity), .number(-.infinity), .number(2)])
        #expect(table.rows == [["", "", "", "2.0"]])
        #expect(table.render() == "a,b,c,d\r\n,,,2.0\r\n")
    }

    @Test func integersAreExact() throws {
        var table = CSVTable(columns: ["n"])
        try table.append([.integer(.max)])
        try table.append([.integer(.min)])
        #expect(table.rows == [["9223372036854775807"], ["-9223372036854775808"]])
    }
}
