#include <sigs/sigs.hpp>

int main() {
  sigs::sync_signal<int> sig;
  int sum = 0;
  sig.add_listener([&](const int& v) { sum += v; });
  sig.emit(41);
  sig(1);
  return sum == 42 ? 0 : 1;
}
