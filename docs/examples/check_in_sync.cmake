# Fails unless MARKDOWN contains SOURCE verbatim as a ```cpp block.
file(READ "${MARKDOWN}" markdown)
file(READ "${SOURCE}" source)
string(FIND "${markdown}" "```cpp\n${source}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${MARKDOWN} does not show ${SOURCE} verbatim in a ```cpp block: copy the file into it")
endif()
