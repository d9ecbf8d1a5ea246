import Backup
import Foundation
import Testing

/// The retention rules over two years of 6-hourly backups.
@Suite struct RetentionPolicyTests {
    let day: Int64 = 86_400_000
    /// 2026-11-23T12:00:00Z.
    let now: Int64 = 1_795_435_200_000

    func sixHourly(days: Int) -> [(id: String, createdAt: Int64)] {
        (0..<(days * 4)).map { index in ("bk-\(index)", now - Int64(index) * day / 4 - 60_000) }
    }

    @Test func theDefaultsKeepAWeekDailiesForNinetyDaysAndMonthliesForTwoYears() {
        let plan = RetentionPolicy().plan(sixHourly(days: 800), now: now)
        let kept = plan.filter(\.keep)
        let ages = kept.map { Double(now - $0.createdAt) / Double(day) }
        // A week of every backup (28), then one per day to 90 days, then one per month.
        #expect(kept.filter { Double(now - $0.createdAt) < 7 * Double(day) }.count == 28)
        let dailies = kept.filter { (7 * day..<90 * day).contains(now - $0.createdAt) }
        #expect((82...84).contains(dailies.count), "\(dailies.count)")
        let monthlies = kept.filter { now - $0.createdAt >= 90 * day }
        #expect((20...22).contains(monthlies.count), "\(monthlies.count)")
        #expect((ages.max() ?? 0) < 745, "nothing past 24 months: \(ages.max() ?? 0) days")
        #expect(plan.count == 3200 && plan.contains { !$0.keep && $0.reason.contains("older than 24 months") })
    }

    @Test func theLastBackupOfAMonthYoungerThanAYearIsNeverPruned() {
        // An operator who asks for 1 month of monthlies still keeps 12.
        let plan = RetentionPolicy(keepAllDays: 1, dailyDays: 2, monthlyMonths: 1).plan(sixHourly(days: 400), now: now)
        let months = Set(plan.filter { $0.keep && now - $0.createdAt > 40 * day }.map { $0.createdAt / (30 * day) })
        #expect(months.count >= 10, "\(months.count)")
        #expect(plan.filter(\.keep).allSatisfy { now - $0.createdAt < 367 * day })
        #expect(plan.contains { $0.keep && $0.reason.contains("never pruned") })
    }
}
