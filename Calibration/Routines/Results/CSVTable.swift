/// The raw points of a calibration run as an RFC 4180 CSV table, for spreadsheets, pandas or
/// gnuplot. Build it row by row, then `render()` it:
///
/// ```swift
/// var table = CSVTable(columns: ["bias_uA", "counts_per_s"])
/// try table.append([.number(12.5), .integer(48_211)])
/// let text = table.render()
/// ```
public struct CSVTable: Sendable {
    /// The header: one name per column.
    public let columns: [String]
    /// The data rows, already turned into field text (unquoted), each with `columns.count` fields.
    public private(set) var rows: [[String]]

    /// An empty table with these column names.
    public init(columns: [String]) {
        self.columns = columns
        self.rows = []
    }

    /// One cell of a row.
    public enum Value: Sendable, Hashable {
        /// A measured or computed number, written in its shortest form that reads back to the
        /// same `Double`. NaN and infinities are written as an empty field, like `missing`:
        /// spreadsheets and CSV readers can't agree on how to spell them.
        case number(Double)
        /// A count or an index, written exactly.
        case integer(Int64)
        /// Free text (a basis name, a state, a note); quoted on output when it needs it.
        case text(String)
        /// No value for this column in this row; an empty field.
        case missing

        /// The field's text before quoting.
        var field: String {
            switch self {
            case .number(let value): value.isFinite ? "\(value)" : ""
            case .integer(let value): String(value)
            case .text(let text): text
            case .missing: ""
            }
        }
    }

    /// Why a row was refused.
    public enum Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        /// The row has a different number of values than the table has columns. `row` counts
        /// data rows from 1 (the header is not counted).
        case wrongValueCount(expected: Int, given: Int, row: Int)

        public var description: String {
            switch self {
            case .wrongValueCount(let expected, let given, let row):
                "CSV row \(row) has \(given) value\(given == 1 ? "" : "s"), "
                    + "but the table has \(expected) column\(expected == 1 ? "" : "s"): "
                    + "expected \(expected), given \(given)"
            }
        }
    }

    /// Appends one row. Throws, and leaves the table unchanged, when the number of values
    /// differs from the number of columns.
    public mutating func append(_ values: [Value]) throws(CSVTable.Error) {
        guard values.count == columns.count else {
            throw .wrongValueCount(expected: columns.count, given: values.count, row: rows.count + 1)
        }
        rows.append(values.map(\.field))
    }

    /// The whole table: the header line, then one line per row, each ended with CRLF as RFC 4180
    /// asks. Fields containing a comma, a double quote, CR or LF are quoted, with quotes doubled.
    public func render() -> String {
        var text = ""
        text += Self.line(columns)
        for row in rows { text += Self.line(row) }
        return text
    }

    private static func line(_ fields: [String]) -> String {
        // A lone empty field would make a blank line, which readers skip; quote it to keep the row.
        if fields.count == 1, fields[0].isEmpty { return "\"\"\r\n" }
        return fields.map(quoted).joined(separator: ",") + "\r\n"
    }

    private static func quoted(_ field: String) -> String {
        // Checked on scalars: in a String, "\r\n" is one Character and would hide both.
        let needsQuotes = field.unicodeScalars.contains { scalar in
            scalar == "," || scalar == "\"" || scalar == "\r" || scalar == "\n"
        }
        guard needsQuotes else { return field }
        return "\"" + field.replacing("\"", with: "\"\"") + "\""
    }
}
