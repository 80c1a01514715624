// An event bus: the typed signals of an application grouped in one struct that every
// module shares. Modules never know each other; each subscribes to the events it needs and
// publishes its own. Here: orders -> payments -> shipping, and back to orders.
// See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <iostream>
#include <string>
#include <vector>

// The events: plain structs, one type per kind of event.
namespace ev {
struct order_placed {
  int order;
  std::string item;
  int cents;
};
struct payment_captured {
  int order;
  int cents;
};
struct payment_declined {
  int order;
  std::string reason;
};
struct shipment_booked {
  int order;
  std::string carrier;
};
}  // namespace ev

// One signal per event type: a listener gets exactly the payload type it asks for, and a
// typo in an event name is a compile error, not a silent miss.
struct event_bus {
  sigs::sync_signal<ev::order_placed> order_placed;
  sigs::sync_signal<ev::payment_captured> payment_captured;
  sigs::sync_signal<ev::payment_declined> payment_declined;
  sigs::sync_signal<ev::shipment_booked> shipment_booked;
};

// Each module keeps its subscriptions in scoped_listeners: they are removed when the
// module is destroyed. A module must therefore not outlive the bus.
class payments {
 public:
  explicit payments(event_bus& bus) : bus_(bus) {
    subs_.emplace_back(bus.order_placed,
                       bus.order_placed.add_listener([this](const ev::order_placed& e) { charge(e); }, "payments"));
  }

 private:
  void charge(const ev::order_placed& e) {
    // Publishing from inside a listener is allowed: the nested emission runs right here.
    if (e.cents > 10'000) {
      bus_.payment_declined.emit({e.order, "over the card limit"});
    } else {
      bus_.payment_captured.emit({e.order, e.cents});
    }
  }
  event_bus& bus_;
  std::vector<sigs::scoped_listener> subs_;
};

class shipping {
 public:
  explicit shipping(event_bus& bus) : bus_(bus) {
    subs_.emplace_back(bus.payment_captured,
                       bus.payment_captured.add_listener(
                           [this](const ev::payment_captured& e) {
                             bus_.shipment_booked.emit({e.order, e.order % 2 ? "parcel-post" : "courier"});
                           },
                           "shipping"));
  }

 private:
  event_bus& bus_;
  std::vector<sigs::scoped_listener> subs_;
};

class orders {
 public:
  explicit orders(event_bus& bus) : bus_(bus) {
    subs_.emplace_back(bus.shipment_booked, bus.shipment_booked.add_listener(
                                                [](const ev::shipment_booked& e) {
                                                  std::cout << "  orders:   #" << e.order << " complete, ships by "
                                                            << e.carrier << "\n";
                                                },
                                                "orders"));
    subs_.emplace_back(bus.payment_declined, bus.payment_declined.add_listener(
                                                 [](const ev::payment_declined& e) {
                                                   std::cout << "  orders:   #" << e.order << " cancelled: " << e.reason
                                                             << "\n";
                                                 },
                                                 "orders"));
  }
  void place(int id, std::string item, int cents) {
    std::cout << "place #" << id << " (" << item << ")\n";
    bus_.order_placed.emit({id, std::move(item), cents});
  }

 private:
  event_bus& bus_;
  std::vector<sigs::scoped_listener> subs_;
};

int main() {
  event_bus bus;  // declared first: destroyed after the modules that subscribe to it

  // An audit module that needs no state: plain listeners on several events.
  bus.order_placed.add_listener(
      [](const ev::order_placed& e) { std::cout << "  audit:    placed #" << e.order << "\n"; }, "audit");
  bus.payment_captured.add_listener(
      [](const ev::payment_captured& e) {
        std::cout << "  audit:    captured " << e.cents << " cents for #" << e.order << "\n";
      },
      "audit");

  orders o(bus);
  payments p(bus);
  {
    shipping s(bus);
    o.place(1, "kettle", 2'500);  // audit and payments hear it, in registration order
    o.place(2, "sofa", 45'000);   // declined: shipping never hears of it
    std::cout << "payment_captured listeners: " << bus.payment_captured.size() << "\n";
  }  // the shipping module goes away: its subscription with it
  std::cout << "shipping module stopped; payment_captured listeners: " << bus.payment_captured.size() << "\n";
  o.place(3, "lamp", 1'200);  // captured, but nobody books a shipment any more

  std::cout << "order_placed keys:";
  for (const auto& k : bus.order_placed.keys()) std::cout << " " << k;
  std::cout << "\n";
  return 0;
}
