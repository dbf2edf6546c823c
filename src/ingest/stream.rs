//! Inputs as one time-ordered stream of events, read while it is consumed.
//!
//! Each input is read on its own thread ([`super::read_input`]) and hands its events over a
//! bounded channel in small batches, so reading runs ahead of whatever consumes the stream (a
//! pipeline on two cores) and memory holds a few batches per input, not the inputs' events. The
//! stream is a k-way merge by log time of the inputs' heads; each input keeps its own order, and
//! ties go to the earlier input, so the result is the same as reading the inputs one after the
//! other and merging them.
//!
//! One case cannot stream: a text input next to a capture. Its clock is put on the capture's by
//! the messages both saw ([`super::align`]), which needs them all; those inputs are then read
//! whole first. Owns the threads, the channels and the merge; does not own reading one input.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{
    Event, Format, IngestOptions, Ingested, InputError, InputInfo, InputWarning, Piece, Source,
    align, merge_by_time, open, read_input,
};

/// Events per batch sent from a reading thread.
const BATCH: usize = 512;
/// Batches in flight per input.
const IN_FLIGHT: usize = 4;

/// What a reading thread sends.
enum Msg {
    Started(Box<InputInfo>, Source),
    Events(Vec<Event>),
    Done(Result<(InputInfo, Vec<InputWarning>), InputError>),
}

/// One input as the merge sees it.
struct Input {
    rx: Receiver<Msg>,
    /// Received events not yet merged.
    head: VecDeque<Event>,
    /// Its place among the readable inputs (what origins name), once started.
    index: Option<usize>,
    /// What it said when it started (the name and format), then its final counts.
    info: Option<InputInfo>,
    source: Source,
    result: Option<Result<Vec<InputWarning>, InputError>>,
}

impl Input {
    /// Receives one message; `false` once the input is done.
    fn receive(&mut self) -> bool {
        if self.result.is_some() {
            return false;
        }
        match self.rx.recv() {
            Ok(Msg::Started(info, source)) => {
                self.info = Some(*info);
                self.source = source;
            }
            Ok(Msg::Events(events)) => self.head.extend(events),
            Ok(Msg::Done(Ok((info, warnings)))) => {
                self.info = Some(info);
                self.result = Some(Ok(warnings));
            }
            Ok(Msg::Done(Err(e))) => self.result = Some(Err(e)),
            // The thread is gone without a word: it panicked, which is a bug; say nothing more.
            Err(_) => self.result = Some(Ok(Vec::new())),
        }
        true
    }

    /// The next event of this input, waiting for it if needed.
    fn peek(&mut self) -> Option<&Event> {
        while self.head.is_empty() && self.receive() {}
        self.head.front()
    }
}

/// The run's events in log time order, as an iterator; [`EventStream::finish`] then gives what
/// was learnt about the inputs.
pub struct EventStream {
    inputs: Vec<Input>,
    /// The readable inputs' descriptions so far (final once the stream is drained).
    infos: Vec<InputInfo>,
    sources: Vec<Source>,
    /// Set when the inputs had to be read whole (clock alignment): the merged events.
    aligned: Option<VecDeque<Event>>,
}

/// Starts reading every input; events come out of the returned stream in log time order.
pub fn stream(names: &[String], opts: &IngestOptions) -> EventStream {
    let mut inputs: Vec<Input> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (tx, rx) = sync_channel(IN_FLIGHT);
            let name = name.clone();
            let opts = opts.clone();
            std::thread::spawn(move || read_thread(&name, i, &opts, &tx));
            Input {
                rx,
                head: VecDeque::new(),
                index: None,
                info: None,
                source: Source::default(),
                result: None,
            }
        })
        .collect();
    // Every input must have started (or failed) before the first event can be merged: that is
    // also when the places of the readable inputs are known.
    let mut infos = Vec::new();
    let mut sources = Vec::new();
    for input in &mut inputs {
        while input.info.is_none() && input.receive() {}
        if let Some(info) = &input.info {
            input.index = Some(infos.len());
            infos.push(info.clone());
            sources.push(input.source.clone());
        }
    }
    let mut s = EventStream {
        inputs,
        infos,
        sources,
        aligned: None,
    };
    let captures = s.infos.iter().any(|i| is_capture(i.format));
    let texts = s.infos.iter().any(|i| !is_capture(i.format));
    if captures && texts {
        s.read_whole_and_align();
    }
    s
}

fn is_capture(format: Format) -> bool {
    matches!(format, Format::Pcap | Format::Pcapng)
}

fn read_thread(name: &str, index: usize, opts: &IngestOptions, tx: &SyncSender<Msg>) {
    let mut batch = Vec::new();
    // A send fails only when the stream was dropped (the run is over): then nothing matters.
    let mut emit = |piece: Piece| match piece {
        Piece::Started { info, source } => {
            let _ = tx.send(Msg::Started(Box::new(info), source));
        }
        Piece::Event(e) => {
            batch.push(e);
            if batch.len() == BATCH {
                let _ = tx.send(Msg::Events(std::mem::take(&mut batch)));
            }
        }
    };
    let result = open(name).and_then(|r| read_input(name, r, index, opts, &mut emit));
    if !batch.is_empty() {
        let _ = tx.send(Msg::Events(batch));
    }
    let _ = tx.send(Msg::Done(result));
}

impl EventStream {
    /// The readable inputs as known so far: names and formats from the start, final counts once
    /// the stream has returned its last event.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.infos
    }

    /// The text of each readable input (empty for captures).
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Once every input is read: their final descriptions (counts) replace the first ones.
    fn final_infos(&mut self) {
        for input in &self.inputs {
            if let (Some(i), Some(info)) = (input.index, &input.info) {
                self.infos[i] = info.clone();
            }
        }
    }

    /// Reads every input to its end, puts the text inputs on the captures' clock and merges.
    fn read_whole_and_align(&mut self) {
        let mut streams: Vec<Vec<Event>> = Vec::new();
        let mut infos: Vec<InputInfo> = Vec::new();
        for input in &mut self.inputs {
            while input.receive() {}
            if let (Some(_), Some(info)) = (input.index, &input.info) {
                streams.push(input.head.drain(..).collect());
                infos.push(info.clone());
            }
        }
        align::align_clocks(&mut infos, &mut streams);
        for input in &mut self.inputs {
            if let (Some(i), Some(info)) = (input.index, &mut input.info) {
                info.clock_offset_ms = infos[i].clock_offset_ms;
            }
        }
        let mut merged = merge_by_time(streams);
        for e in &mut merged {
            let pos = e.origin().input;
            if let Some(i) = self.inputs.get(pos).and_then(|input| input.index) {
                e.origin_mut().input = i;
            }
        }
        self.aligned = Some(merged.into());
    }

    /// Drains what is left and returns what was learnt about the inputs (no events).
    pub fn finish(mut self) -> Ingested {
        for input in &mut self.inputs {
            while input.receive() {}
        }
        let mut out = Ingested::default();
        for input in self.inputs {
            // A started input has its description: the final one, or the first if it failed.
            if let (Some(_), Some(info)) = (input.index, input.info) {
                out.inputs.push(info);
                out.sources.push(input.source);
            }
            match input.result {
                Some(Ok(warnings)) => out.warnings.extend(warnings),
                Some(Err(e)) => out.errors.push(e),
                None => {}
            }
        }
        out
    }
}

impl Iterator for EventStream {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if let Some(aligned) = &mut self.aligned {
            let next = aligned.pop_front();
            if next.is_none() {
                self.final_infos();
            }
            return next;
        }
        let mut best: Option<(usize, crate::event::Timestamp)> = None;
        for (pos, input) in self.inputs.iter_mut().enumerate() {
            if let Some(e) = input.peek() {
                let ts = e.ts();
                if best.is_none_or(|(_, b)| ts < b) {
                    best = Some((pos, ts));
                }
            }
        }
        let Some((pos, _)) = best else {
            self.final_infos();
            return None;
        };
        let input = &mut self.inputs[pos];
        let mut e = input.head.pop_front()?;
        if let Some(i) = input.index
            && i != pos
        {
            e.origin_mut().input = i;
        }
        Some(e)
    }
}
