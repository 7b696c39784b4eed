"""Measuring transformers' `AlbertForMaskedLM` on PyTorch.

This worker imports neither keras nor TensorFlow, so that its peak RSS is
PyTorch's and transformers' alone.
"""

from measuring import LEARNING_RATE, throughput, time_calls
from model_configuration import model_config, transformers_config_arguments
from shared_inputs import MASK_SELECTION_RATE, make_model_inputs, read_shared_inputs


def run_transformers(workdir, args, compiled=False):
    inputs, strings = read_shared_inputs(workdir)
    result = measure_transformers_steps(args, inputs, compiled)
    result["preprocess_strings"] = measure_transformers_preprocessing(
        workdir, strings, args
    )
    return result


def run_transformers_compiled(workdir, args):
    return run_transformers(workdir, args, compiled=True)


def measure_transformers_steps(args, inputs=None, compiled=False):
    """Train and predict tokens/s and peak CUDA memory of `AlbertForMaskedLM`
    with SDPA attention, eager or under `torch.compile` (whose compilation
    the warm-up steps absorb). `inputs`: the shared batch, else made here."""
    import torch
    import transformers
    from transformers import AlbertConfig, AlbertForMaskedLM

    torch.manual_seed(args.seed)
    on_gpu = torch.cuda.is_available()
    device = "cuda" if on_gpu else "cpu"
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    config = AlbertConfig(
        **transformers_config_arguments(model_config(args)),
        attn_implementation="sdpa",
    )
    model = AlbertForMaskedLM(config).to(device)
    if inputs is None:
        inputs = make_model_inputs(model_config(args), args)
    batch = torch_batch(inputs, device)
    # The compiled module shares the model's parameters (and optimizer).
    step_model = torch.compile(model) if compiled else model
    return {
        "version": transformers.__version__,
        "framework": f"torch {torch.__version__}"
        + (" (torch.compile)" if compiled else ""),
        "device": torch.cuda.get_device_name(0) if on_gpu else "cpu",
        "attention": model.config._attn_implementation,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens": measure_torch_train(step_model, batch, device, args),
        "predict_tokens": measure_torch_predict(step_model, batch, device, args),
        "device_peak_memory_mib": (
            torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None
        ),
    }


def torch_batch(inputs, device):
    """Model inputs, full-length labels (-100 off the masks), mask positions."""
    import torch

    def tensor(key):
        return torch.as_tensor(inputs[key], dtype=torch.long, device=device)

    features = {
        "input_ids": tensor("token_ids"),
        "token_type_ids": tensor("segment_ids"),
        "attention_mask": tensor("padding_mask"),
    }
    positions = tensor("mask_positions")
    labels = torch.full_like(features["input_ids"], -100)
    labels.scatter_(1, positions, tensor("mask_ids"))
    return features, labels, positions


def torch_autocast(device, args):
    import torch

    return torch.autocast(
        device_type=device,
        dtype=torch.bfloat16,
        enabled=args.precision == "mixed_bfloat16",
    )


def measure_torch_train(model, batch, device, args):
    """Tokens/s of one forward (loss from `labels`), backward and Adam step."""
    import torch

    features, labels, _ = batch
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch_autocast(device, args):
            loss = model(**features, labels=labels).loss
        loss.backward()
        optimizer.step()
        loss.item()  # Waits for the device.

    seconds = time_calls(step, args.warmup_steps, args.steps)
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_torch_predict(model, batch, device, args):
    """Tokens/s of a forward pass, masked positions gathered, copied to host."""
    import torch

    features, _, positions = batch
    model.eval()

    def step():
        with torch.inference_mode(), torch_autocast(device, args):
            logits = model(**features).logits
            index = positions[..., None].expand(-1, -1, logits.shape[-1])
            torch.gather(logits, 1, index).float().cpu()

    seconds = time_calls(step, args.warmup_steps, args.steps)
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_transformers_preprocessing(workdir, strings, args):
    """Strings/s of the tokenizer (padded to length) + MLM data collator."""
    from transformers import AlbertTokenizer, DataCollatorForLanguageModeling

    tokenizer = AlbertTokenizer.from_pretrained(str(workdir / "hf_tokenizer"))
    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=MASK_SELECTION_RATE
    )

    def one_pass():
        for start in range(0, len(strings), args.batch_size):
            encoded = tokenizer(
                strings[start : start + args.batch_size],
                padding="max_length",
                truncation=True,
                max_length=args.sequence_length,
                return_special_tokens_mask=True,
            )
            examples = [dict(zip(encoded, row)) for row in zip(*encoded.values())]
            collator(examples)

    seconds = time_calls(one_pass, warmup=1, repeats=args.preprocess_passes)
    return throughput(len(strings), seconds)
