// Cache invalidation: each cache subscribes to the "changed" signal under its own key, so
// it can be unsubscribed by name; a feature toggle is a keyed listener added when the
// feature is switched on and removed by key when it is switched off.
// See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <iostream>
#include <map>
#include <string>

struct changed {
  std::string table;
  int row;
};

// A tiny read-through cache of one table.
class table_cache {
 public:
  explicit table_cache(std::string table) : table_(std::move(table)) {}
  void put(int row, std::string value) { rows_[row] = std::move(value); }
  void on_changed(const changed& c) {
    if (c.table != table_) return;
    const bool had = rows_.erase(c.row) != 0;
    std::cout << "  " << table_ << " cache: row " << c.row << (had ? " evicted\n" : " not cached\n");
  }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }

 private:
  std::string table_;
  std::map<int, std::string> rows_;
};

void show_keys(const sigs::sync_signal<changed>& sig) {
  std::cout << "  listeners:";
  for (const auto& k : sig.keys()) std::cout << " " << k;
  std::cout << "\n";
}

int main() {
  sigs::sync_signal<changed> db_changed;
  table_cache users("users");
  table_cache prices("prices");
  users.put(1, "ada");
  users.put(2, "bob");
  prices.put(7, "9.99");

  // The key names the subscriber: it must be unique on this signal.
  db_changed.add_listener([&](const changed& c) { users.on_changed(c); }, "cache:users");
  db_changed.add_listener([&](const changed& c) { prices.on_changed(c); }, "cache:prices");
  sigs::listener_id again = db_changed.add_listener([](const changed&) {}, "cache:users");
  std::cout << "second 'cache:users' refused: " << again.error().message() << "\n";

  std::cout << "update users/1\n";
  db_changed.emit({"users", 1});
  std::cout << "update prices/7\n";
  db_changed.emit({"prices", 7});

  // The prices cache is retired: unsubscribe it by key, no id needed.
  std::cout << "retire the prices cache: " << (db_changed.remove_listener("cache:prices") ? "failed" : "removed")
            << "\n";
  show_keys(db_changed);

  // A feature toggle: while "feature:audit" is on, every change is also written to an
  // audit trail. Switching on twice is refused; switching off twice says not_found.
  auto audit_on = [&] {
    sigs::listener_id id = db_changed.add_listener(
        [](const changed& c) { std::cout << "  audit: " << c.table << "/" << c.row << " changed\n"; }, "feature:audit");
    std::cout << "audit on: " << (id ? "ok" : id.error().message()) << "\n";
  };
  auto audit_off = [&] {
    // remove_listener_and_wait also waits for a call of it still running on another thread,
    // so whatever the listener uses may be torn down right after it returns.
    std::error_code ec = db_changed.remove_listener_and_wait("feature:audit");
    std::cout << "audit off: " << (ec ? ec.message() : "ok") << "\n";
  };
  audit_on();
  audit_on();
  std::cout << "has feature:audit: " << std::boolalpha << db_changed.has_key("feature:audit") << "\n";
  show_keys(db_changed);
  std::cout << "update users/2\n";
  db_changed.emit({"users", 2});
  audit_off();
  audit_off();
  std::cout << "update users/3\n";
  db_changed.emit({"users", 3});

  // A one-shot warm-up hook: fires on the next change only.
  db_changed.add_once_with_key(
      [](const changed& c) { std::cout << "  first change after warm-up: " << c.table << "\n"; }, "warm-up");
  std::cout << "update prices/7 twice\n";
  db_changed.emit({"prices", 7});
  db_changed.emit({"prices", 7});
  show_keys(db_changed);
  std::cout << "cached rows left: users " << users.size() << ", prices " << prices.size() << "\n";
  return 0;
}
