#ifndef ESINK_TRANSPORT_MESSAGE_HPP
#define ESINK_TRANSPORT_MESSAGE_HPP

#include <boost/json/array.hpp>

#include <string>
#include <vector>

namespace esink {

/// The arguments of one Socket.IO event or acknowledgement.
///
/// Binary arguments travel as attachments: where a binary value stands in `args`, the
/// Socket.IO placeholder `{"_placeholder":true,"num":N}` refers to `attachments[N]`
/// (Socket.IO v5 §"Packet encoding", BINARY_EVENT). Echoing a received message back
/// therefore keeps its binary parts in place.
struct message {
  boost::json::array args;
  std::vector<std::string> attachments;
};

/// A placeholder for `attachments[num]`, to put in `message::args`.
inline boost::json::object binary_placeholder(std::size_t num) {
  boost::json::object o;
  o["_placeholder"] = true;
  o["num"] = num;
  return o;
}

}  // namespace esink

#endif
