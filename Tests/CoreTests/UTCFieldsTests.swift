import Core
import Foundation
import Testing

/// The arithmetic UTC fields agree with Foundation's calendar, before 1970, around leap days and century years.
@Suite struct UTCFieldsTests {
    @Test func fieldsAgreeWithTheGregorianCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var millis: Int64 = -2_208_988_800_000  // 1900-01-01
        var checked = 0
        while millis < 4_102_444_800_000 {  // 2100-01-01
            let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(millis) / 1000))
            let f = RFC3339.fields(ofMillis: millis)
            #expect(f.year == p.year && f.month == p.month && f.day == p.day && f.hour == p.hour && f.minute == p.minute && f.second == p.second,
                    "\(millis): \(f) against \(p)")
            millis += 86_400_000 * 13 + 3_723_001
            checked += 1
        }
        #expect(checked > 5000)
        #expect(RFC3339.fields(ofMillis: 1_709_164_800_000) == (2024, 2, 29, 0, 0, 0))
    }
}
